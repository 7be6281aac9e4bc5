"""Where finished recordings are kept: a folder here, or an S3-compatible bucket.

``port`` holds the ``RecordingStore`` interface every part of callrec uses, ``local`` and
``s3`` its two implementations, ``uploads`` the queue that moves finished files into a store
without ever losing the only copy, ``check`` the start-up probe. ``open_store`` builds the
store ``[storage]`` names. The S3 client loads only when an S3 store is opened: it costs a
second at start-up that other commands need not pay.
"""

from __future__ import annotations

from pathlib import Path

from callrec_ari.config.storage import StorageKind, StorageSettings
from callrec_ari.storage.local import LocalStore
from callrec_ari.storage.port import ByteStream, ObjectInfo, RecordingStore

__all__ = [
    "ByteStream",
    "LocalStore",
    "ObjectInfo",
    "RecordingStore",
    "open_store",
]


async def open_store(settings: StorageSettings, recordings_dir: Path) -> RecordingStore:
    """The store ``settings`` name, ready for use; ``close()`` it when done. A local store
    without a folder of its own is the recordings folder."""
    if settings.kind is StorageKind.S3:
        if settings.s3 is None:
            raise ValueError("[storage] kind = s3 without its S3 settings.")
        from callrec_ari.storage.s3 import S3Store  # noqa: PLC0415 - loads aiobotocore

        return await S3Store(settings.s3).open()
    return LocalStore(settings.dir or recordings_dir)
