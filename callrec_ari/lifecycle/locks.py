"""Taking the database's write lock at the start of a transaction, where the database needs it.

The purge and hold placement both read rows and then write on what they read; a hold
committed in between must never be missed. PostgreSQL gets row locks (``FOR UPDATE``) from the
queries themselves. SQLite has one write lock for the whole file, and Python's sqlite3 only
begins a transaction at the first write, so reads before it see no consistent snapshot.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def take_write_lock(session: AsyncSession) -> None:
    """On SQLite, begin the transaction with the write lock (a write that changes nothing)."""
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("UPDATE legal_holds SET id = id WHERE 0 = 1"))
