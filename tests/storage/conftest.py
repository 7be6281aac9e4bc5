"""Fixtures for the storage tests: each store in turn (``s3_store``, on the session's
SeaweedFS server, is in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from callrec_ari.storage import LocalStore, RecordingStore
from callrec_ari.storage.s3 import S3Store
from tests.support.seaweedfs import PART_BYTES, TEST_BUCKET
from tests.support.vault import master_key, vault  # noqa: F401 - fixtures

BUCKET = TEST_BUCKET
__all__ = ["BUCKET", "PART_BYTES"]  # for the tests here


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> RecordingStore:
    """Each implementation in turn: a folder, and a bucket on the SeaweedFS server."""
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    s3: S3Store = request.getfixturevalue("s3_store")
    return s3
