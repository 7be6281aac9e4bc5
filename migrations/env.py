"""Alembic environment: runs the migrations on callrec's async engine.

The URL comes from ``callrec_ari.db.migrate.alembic_config`` (``config.attributes["url"]``);
there is no alembic.ini.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from callrec_ari.db.models import Base
from callrec_ari.db.session import create_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("No database URL: build the config with migrate.alembic_config(url).")
    return str(url)


def _configure(**options: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=_url().startswith("sqlite"),
        **options,
    )


def _run_on(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_on)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
