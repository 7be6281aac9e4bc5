"""``callrec storage check``'s work: prove the configured store takes, gives back and
deletes an object, before a single recording depends on it."""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from pathlib import Path

from callrec_ari.config.storage import StorageSettings
from callrec_ari.errors import StorageError
from callrec_ari.storage import open_store
from callrec_ari.storage.port import RecordingStore

PROBE_PREFIX = ".callrec-check-"  # beside the day folders, never inside one
_PROBE = b"callrec storage check: this object is deleted straight away.\n"


async def probe(store: RecordingStore) -> str:
    """Store a small object, read part of it back by range, delete it; one sentence saying
    so. Raises ``StorageError`` naming the store if any step fails."""
    key = f"{PROBE_PREFIX}{secrets.token_hex(6)}"
    with tempfile.TemporaryDirectory(prefix="callrec-check-") as folder:
        source = Path(folder) / "probe"
        await asyncio.to_thread(source.write_bytes, _PROBE)
        await store.put(key, source)
    try:
        back = await (await store.read(key, 7, 20)).read_all()
        if back != _PROBE[7:20]:
            raise StorageError(f"{_named(store)} gave back other bytes than were stored.")
    finally:
        await store.delete(key)
    if await store.head(key) is not None:
        raise StorageError(f"{_named(store)} kept an object it was told to delete.")
    return f"{_named(store)} stores, reads and deletes recordings."


def _named(store: RecordingStore) -> str:
    """The store's description starting a sentence."""
    text = store.description
    return text[:1].upper() + text[1:]


async def check(settings: StorageSettings, recordings_dir: Path) -> str:
    """Open the configured store, probe it, close it; the sentence to print."""
    store = await open_store(settings, recordings_dir)
    try:
        said = await probe(store)
    finally:
        await store.close()
    where = settings.location_name()
    return f"{said} Location: {where}." if where else said
