"""Fixtures shared by every test folder: databases of both kinds, migrated by Alembic."""

from __future__ import annotations

import inspect
import os
import secrets
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callrec_ari import log as logging_setup
from callrec_ari.config import LogSettings
from callrec_ari.db.migrate import upgrade_to_head
from callrec_ari.db.session import create_engine, create_session_factory
from tests.support.postgres import PostgresServer

if TYPE_CHECKING:
    from aiobotocore.session import AioSession

    from callrec_ari.storage.recordings import Offsite
    from callrec_ari.storage.s3 import S3Store
    from tests.support.seaweedfs import SeaweedServer


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


@pytest.fixture(scope="session")
def seaweed() -> Iterator[SeaweedServer]:
    """One SeaweedFS server (S3) for the whole session, with the tests' bucket."""
    # Imported here: the S3 client libraries take a second to load, which most tests skip.
    from tests.support.seaweedfs import TEST_BUCKET, SeaweedServer  # noqa: PLC0415

    with SeaweedServer() as server:
        server.create_bucket(TEST_BUCKET)
        yield server


@pytest.fixture(scope="session")
def aio_session() -> AioSession:
    """One S3 client session for the run: it reads the S3 API model once, not per test."""
    from aiobotocore.session import AioSession  # noqa: PLC0415 - as above

    return AioSession()


@pytest.fixture
async def s3_store(seaweed: SeaweedServer, aio_session: AioSession) -> AsyncIterator[S3Store]:
    """A store on the session's bucket, under a prefix of this test's own, in parts of the
    smallest size S3 allows (5 MiB), so that a test file of a few MiB goes in parts."""
    from callrec_ari.storage.s3 import S3Store  # noqa: PLC0415 - as above
    from tests.support.seaweedfs import PART_BYTES, TEST_BUCKET  # noqa: PLC0415

    settings = seaweed.settings(
        TEST_BUCKET, prefix=f"test-{secrets.token_hex(6)}/", part_size_bytes=PART_BYTES
    )
    async with S3Store(settings, session=aio_session) as store:
        yield store


@pytest.fixture
def offsite(s3_store: S3Store, tmp_path: Path) -> Offsite:
    """The outbox (``tmp_path/outbox``) and the S3 store of ``[storage] kind = "s3"``."""
    from callrec_ari.storage.recordings import Offsite  # noqa: PLC0415 - as above

    return Offsite(store=s3_store, outbox=tmp_path / "outbox")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database: a SQLite file, or a database on the session server."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'callrec.sqlite3'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"test_{secrets.token_hex(6)}"
    yield server.create_database(name)
    server.drop_database(name)


MIGRATED_TEMPLATE = "callrec_migrated"


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session, copied for every test that needs one."""
    path = tmp_path_factory.mktemp("migrated") / "callrec.sqlite3"
    upgrade_to_head(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def migrated_postgres(postgres_server: PostgresServer) -> str:
    """A PostgreSQL database migrated once per session, the template of every test's."""
    upgrade_to_head(postgres_server.create_database(MIGRATED_TEMPLATE))
    return MIGRATED_TEMPLATE


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new database migrated to the newest schema.

    Migrating costs a third of a second; copying a database migrated once costs a few
    milliseconds, and the copy is the same schema, so each test gets a copy.
    """
    if request.param == "sqlite":
        target = tmp_path / "callrec.sqlite3"
        source = sqlite3.connect(request.getfixturevalue("migrated_sqlite"))
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # consistent even if a WAL is beside the file
        finally:
            source.close()
            copy.close()
        yield f"sqlite+aiosqlite:///{target}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    template: str = request.getfixturevalue("migrated_postgres")
    name = f"test_{secrets.token_hex(6)}"
    yield server.create_database(name, template=template)
    server.drop_database(name)  # the server lives in memory: keep it small


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
# A test that starts Asterisk, PostgreSQL, Chromium or podman must carry the marker saying so,
# so that `-m "not asterisk"` (and the others) really leave those out. tests/test_markers.py fails
# on every test that does not. A need is recognised in the source of the test or of any
# fixture it uses, directly or not.
NEEDED_BY_SOURCE = {
    "SandboxSession": "asterisk",
    "StockAsterisk(": "asterisk",
    "CALLREC_SANDBOX_SLOT": "asterisk",  # runs the sandbox's commands on an instance
    "readme_folder(": "asterisk",  # the same, for the README's examples
    "ensure_rootfs(": "asterisk",
    "PostgresServer(": "postgres",
    "async_playwright": "browser",
    "build_image(": "container",
}
UNMARKED: pytest.StashKey[list[str]] = pytest.StashKey()


def _source(function: object, cache: dict[object, str]) -> str:
    if function not in cache:
        try:
            cache[function] = inspect.getsource(function)  # type: ignore[arg-type]
        except (OSError, TypeError):  # a built-in fixture of pytest's own
            cache[function] = ""
    return cache[function]


def missing_markers(item: pytest.Item, cache: dict[object, str]) -> set[str]:
    """The markers ``item`` needs (by its own source and its fixtures') but lacks."""
    functions: list[object] = [getattr(item, "function", None)]
    # pytest keeps the fixture definitions a test resolved on its private _fixtureinfo; it
    # has been there, unchanged, since pytest 3.
    info = getattr(item, "_fixtureinfo", None)
    for definitions in getattr(info, "name2fixturedefs", {}).values():
        functions.extend(definition.func for definition in definitions)
    source = "".join(_source(function, cache) for function in functions if function)
    needed = {mark for token, mark in NEEDED_BY_SOURCE.items() if token in source}
    return {mark for mark in needed if item.get_closest_marker(mark) is None}


@pytest.hookimpl(tryfirst=True)  # before -m and -k deselect anything
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Note every collected test lacking a marker for what it needs; on pytest-xdist's
    workers, spread the long acceptance tests over the whole run."""
    cache: dict[object, str] = {}
    unmarked = []
    for item in items:
        missing = missing_markers(item, cache)
        if missing:
            unmarked.append(f"{item.nodeid}: {', '.join(sorted(missing))}")
    config.stash[UNMARKED] = unmarked
    if os.environ.get("PYTEST_XDIST_WORKER"):  # every worker collects, and sorts the same
        items[:] = spread_out(items, lambda item: item.get_closest_marker("asterisk") is not None)


def _shares_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    return any(
        definition.scope == "module"
        for definitions in getattr(info, "name2fixturedefs", {}).values()
        for definition in definitions
    )


def spread_out(items: list[pytest.Item], long: Callable[[pytest.Item], bool]) -> list[pytest.Item]:
    """``items`` with the ``long`` ones placed at even intervals instead of all first.

    pytest-xdist hands each worker a contiguous share of the list at the start: with the
    acceptance tests (a minute each, mostly waiting) all in tests/acceptance/, one worker
    would get them all. Tests sharing a module-wide fixture stay together.
    """
    blocks: list[list[pytest.Item]] = []
    for item in (item for item in items if long(item)):
        if blocks and _shares_module_fixture(item) and blocks[-1][-1].module is item.module:
            blocks[-1].append(item)
        else:
            blocks.append([item])
    short = [item for item in items if not long(item)]
    if not blocks:
        return items
    step = len(short) / len(blocks)
    spread: list[pytest.Item] = []
    taken = 0
    for index, block in enumerate(blocks):
        until = round(index * step)
        spread.extend(short[taken:until])
        taken = until
        spread.extend(block)
    spread.extend(short[taken:])
    return spread
