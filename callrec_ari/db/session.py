"""Engine and session factory. Built by the caller (the app's wiring), never at import time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeAlias, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from callrec_ari.errors import DatabaseError

T = TypeVar("T")
# The names the web layer uses for sessions: it opens transactions and hands them to the
# service layer, but never builds a query itself (a test checks that web/ imports no
# SQLAlchemy).
DbSession: TypeAlias = AsyncSession
SessionFactory: TypeAlias = async_sessionmaker[AsyncSession]

# ``Session.info`` key: the ``client`` of audit entries written in a session that names none
# (the command line's operator, set once per command by ``run_command``/``open_sessions``).
AUDIT_CLIENT = "audit_client"

SQLITE_BUSY_TIMEOUT_MS = 5000
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10


def create_engine(url: str) -> AsyncEngine:
    """An engine for ``sqlite+aiosqlite:///...`` or ``postgresql+asyncpg://...``."""
    connect_args: dict[str, Any] = {}
    server = make_url(url).get_backend_name() == "postgresql"
    if server:
        # asyncpg waits 60 s by default; the writer would rather retry sooner.
        connect_args["timeout"] = POSTGRES_CONNECT_TIMEOUT_SECONDS
    engine = _create_async_engine(
        url,
        connect_args=connect_args,
        # Parameters hold callers' numbers: keep them out of error messages and logs.
        hide_parameters=True,
        # A pooled connection may have died with a server restart: test it before use. A
        # SQLite file has no server to lose, and the test is a round trip to its thread on
        # every checkout.
        pool_pre_ping=server,
    )
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    return engine


def create_session_factory(
    engine: AsyncEngine, *, client: str | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (no lazy reload on attribute access);
    with ``client``, every audit entry they write without one names it."""
    info = {AUDIT_CLIENT: client} if client is not None else None
    return async_sessionmaker(engine, expire_on_commit=False, info=info)


@contextlib.asynccontextmanager
async def open_sessions(
    url: str, *, client: str | None = None
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory on a short-lived engine, for command-line jobs; disposed on exit.

    ``client`` (the operator, ``cli:<os user> sudo:<user>``) goes into each audit entry the
    sessions write, whoever the entry names as actor.

    The database is reached once before the job starts, so an unreachable one is a
    ``DatabaseError`` (one sentence) rather than whatever the driver raised half-way.
    """
    engine = create_engine(url)
    try:
        try:
            async with engine.connect():
                pass
        except (SQLAlchemyError, OSError) as exc:
            raise DatabaseError(database_failure(exc)) from exc
        yield create_session_factory(engine, client=client)
    finally:
        await engine.dispose()


def run_command(
    url: str, work: Callable[[AsyncSession], Awaitable[T]], *, client: str | None = None
) -> T:
    """Run a command-line job's ``work`` in one transaction on a short-lived engine.

    Committed if ``work`` returns, rolled back if it raises; a database failure becomes a
    ``DatabaseError`` that says what to check. ``client`` as for ``open_sessions``.
    """
    return asyncio.run(_run_command(url, work, client))


async def _run_command(
    url: str, work: Callable[[AsyncSession], Awaitable[T]], client: str | None
) -> T:
    try:
        async with (
            open_sessions(url, client=client) as sessions,
            sessions() as session,
            session.begin(),
        ):
            return await work(session)
    except SQLAlchemyError as exc:
        raise DatabaseError(database_failure(exc)) from exc


def database_failure(exc: BaseException) -> str:
    """One sentence for a command whose database failed, saying what to check."""
    return (
        f"The database refused the command ({describe_error(exc)}); "
        "is it reachable and migrated (`callrec migrate`)?"
    )


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # WAL lets the web pages read while the writer writes; the busy timeout makes a writer
    # wait for a lock instead of failing at once.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def describe_error(exc: BaseException) -> str:
    """One line naming a database failure, without SQL or parameters, fit for a log."""
    orig = getattr(exc, "orig", None)
    source = orig if isinstance(orig, BaseException) else exc
    # Drivers wrap the server's error; its own class (e.g. UniqueViolationError) says most.
    for _ in range(5):
        if source.__cause__ is None:
            break
        source = source.__cause__
    lines = str(source).strip().splitlines()
    return f"{type(source).__name__}: {lines[0]}" if lines else type(source).__name__
