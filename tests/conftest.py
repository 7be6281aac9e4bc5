"""Fixtures shared by every test folder: databases of both kinds, migrated by Alembic."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callrec_ari import log as logging_setup
from callrec_ari.config import LogSettings
from callrec_ari.db.migrate import upgrade_to_head
from callrec_ari.db.session import create_engine, create_session_factory
from tests.support.postgres import PostgresServer


@pytest.fixture(autouse=True)
def _uncached_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Commands under test configure structlog for the whole process. A logger cached then
    would keep that pipeline for good, and a later test's ``capture_logs`` would see nothing:
    so no caching in tests, and every test starts from structlog's defaults."""
    configure = logging_setup.configure

    def uncached(settings: LogSettings) -> None:
        configure(settings)
        structlog.configure(cache_logger_on_first_use=False)

    monkeypatch.setattr(logging_setup, "configure", uncached)
    yield
    structlog.reset_defaults()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server for the whole test session."""
    with PostgresServer() as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new, empty database: a SQLite file, or a database on the session server."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'callrec.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database(f"test_{secrets.token_hex(6)}")


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """The URL of a new database migrated to the newest schema."""
    upgrade_to_head(empty_database_url)
    return empty_database_url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the migrated database, disposed after the test."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on the migrated database."""
    return create_session_factory(engine)


# -- what each test needs ------------------------------------------------------------------
# A test that starts Asterisk, PostgreSQL or Chromium must carry the marker saying so, so that
# `-m "not asterisk"` (and the others) really leave those out. tests/test_markers.py fails
# on every test that does not; these say how a need is recognised.
NEEDED_BY_FIXTURE = {"sandbox_session": "asterisk", "postgres_server": "postgres"}
NEEDED_BY_SOURCE = {
    "SandboxSession": "asterisk",
    "StockAsterisk(": "asterisk",
    "CALLREC_SANDBOX_SLOT": "asterisk",  # runs the sandbox's commands on an instance
    "ensure_rootfs(": "asterisk",
    "PostgresServer(": "postgres",
    "async_playwright": "browser",
}
UNMARKED: pytest.StashKey[list[str]] = pytest.StashKey()


def missing_markers(item: pytest.Item, source: str) -> set[str]:
    """The markers ``item`` needs (by its fixtures and its module's source) but lacks."""
    needed = {mark for name, mark in NEEDED_BY_FIXTURE.items() if name in item.fixturenames}
    needed |= {mark for token, mark in NEEDED_BY_SOURCE.items() if token in source}
    return {mark for mark in needed if item.get_closest_marker(mark) is None}


@pytest.hookimpl(tryfirst=True)  # before -m and -k deselect anything
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Note every collected test lacking a marker for what it needs."""
    sources: dict[Path, str] = {}
    unmarked = []
    for item in items:
        path = Path(item.path)
        if path not in sources:
            sources[path] = path.read_text(encoding="utf-8")
        missing = missing_markers(item, sources[path])
        if missing:
            unmarked.append(f"{item.nodeid}: {', '.join(sorted(missing))}")
    config.stash[UNMARKED] = unmarked
