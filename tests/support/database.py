"""A database job run from a synchronous test (one that also runs the real command line)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.db.session import create_engine, create_session_factory

T = TypeVar("T")


def on_database(
    database_url: str, job: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]
) -> T:
    """Run ``job(sessions)`` on the database at ``database_url``, then close the engine."""

    async def go() -> T:
        engine = create_engine(database_url)
        try:
            return await job(create_session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(go())
