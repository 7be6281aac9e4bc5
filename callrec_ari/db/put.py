"""Store one row by its primary key: insert it, or overwrite the columns given."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.db.base import Base

_Row = TypeVar("_Row", bound=Base)


async def put_row(session: AsyncSession, model: type[_Row], key: str, **columns: Any) -> _Row:
    """The row of ``model`` with primary key ``key``, inserted or updated to ``columns``."""
    row = await session.get(model, key)
    if row is None:
        row = model(**{_key_name(model): key}, **columns)
        session.add(row)
    else:
        for name, value in columns.items():
            setattr(row, name, value)
    await session.flush()
    return row


def _key_name(model: type[Base]) -> str:
    [column] = inspect(model).primary_key
    return str(column.key)
