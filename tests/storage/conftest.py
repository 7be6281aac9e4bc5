"""Fixtures for the storage tests: one SeaweedFS server per session, a fresh store per test."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiobotocore.session import AioSession

from callrec_ari.storage import LocalStore, RecordingStore
from callrec_ari.storage.s3 import S3Store
from tests.support.seaweedfs import SeaweedServer

BUCKET = "callrec-tests"
PART_BYTES = 5 * 1024 * 1024


@pytest.fixture(scope="session")
def seaweed() -> Iterator[SeaweedServer]:
    """One SeaweedFS server for the whole session, with the tests' bucket."""
    with SeaweedServer() as server:
        server.create_bucket(BUCKET)
        yield server


@pytest.fixture(scope="session")
def aio_session() -> AioSession:
    """One client session for the run: it reads the S3 API model once, not per test."""
    return AioSession()


@pytest.fixture
async def s3_store(seaweed: SeaweedServer, aio_session: AioSession) -> AsyncIterator[S3Store]:
    """A store on the session's bucket, under a prefix of this test's own, in parts of the
    smallest size S3 allows (5 MiB), so that a test file of a few MiB goes in parts."""
    settings = seaweed.settings(
        BUCKET, prefix=f"test-{secrets.token_hex(6)}/", part_size_bytes=PART_BYTES
    )
    async with S3Store(settings, session=aio_session) as store:
        yield store


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> RecordingStore:
    """Each implementation in turn: a folder, and a bucket on the SeaweedFS server."""
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    s3: S3Store = request.getfixturevalue("s3_store")
    return s3
