"""The wrapped data keys in the database: stored when a recording is sealed, read to play it,
deleted with it (the crypto-erasure). Repository functions: the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.crypto.keys import MasterKeys, Wrapped
from callrec_ari.db.models import RecordingKey
from callrec_ari.errors import RecordingError

_IN_CHUNK = 500  # paths per IN (...): well under SQLite's parameter limit


async def put_key(session: AsyncSession, path: str, wrapped: Wrapped, *, now: datetime) -> None:
    """Store ``path``'s wrapped key, replacing one an interrupted earlier sealing left."""
    row = await session.get(RecordingKey, path)
    if row is None:
        session.add(
            RecordingKey(
                recording_path=path,
                master_key_id=wrapped.master_key_id,
                wrapped_key=wrapped.blob,
                sealed_at=now,
            )
        )
    else:
        row.master_key_id = wrapped.master_key_id
        row.wrapped_key = wrapped.blob
        row.sealed_at = now
        row.rewrapped_at = None
    await session.flush()


async def wrapped_key(session: AsyncSession, path: str) -> Wrapped | None:
    """The wrapped key of the recording at ``path``, or None if it has none."""
    row = await session.get(RecordingKey, path)
    if row is None:
        return None
    return Wrapped(master_key_id=row.master_key_id, blob=row.wrapped_key)


async def data_key(session: AsyncSession, keys: MasterKeys | None, path: str) -> bytes | None:
    """The unwrapped data key of ``path``, or None if it has no key row (a plain recording).

    ``RecordingError`` if there is a row but no master key to open it with (``keys`` None:
    encryption is not configured here) or it does not open.
    """
    wrapped = await wrapped_key(session, path)
    if wrapped is None:
        return None
    if keys is None:
        raise RecordingError(
            f"The recording {path} is encrypted, and [encryption] is not configured here."
        )
    return keys.unwrap(wrapped, path)


async def destroy_keys(session: AsyncSession, paths: Sequence[str]) -> int:
    """Delete the key rows of ``paths``; how many there were. Their files, wherever copies
    of them are, can no longer be decrypted once this commits."""
    destroyed = 0
    for start in range(0, len(paths), _IN_CHUNK):
        chunk = list(paths[start : start + _IN_CHUNK])
        result = await session.execute(
            delete(RecordingKey).where(RecordingKey.recording_path.in_(chunk))
        )
        destroyed += int(getattr(result, "rowcount", 0) or 0)
    return destroyed


async def keyed_paths(session: AsyncSession, paths: Sequence[str]) -> set[str]:
    """Those of ``paths`` that have a key row."""
    found: set[str] = set()
    for start in range(0, len(paths), _IN_CHUNK):
        chunk = list(paths[start : start + _IN_CHUNK])
        rows = await session.scalars(
            select(RecordingKey.recording_path).where(RecordingKey.recording_path.in_(chunk))
        )
        found.update(rows)
    return found


async def count_by_master_key(session: AsyncSession) -> dict[str, int]:
    """How many recording keys each master key wraps."""
    rows = await session.execute(
        select(RecordingKey.master_key_id, func.count()).group_by(RecordingKey.master_key_id)
    )
    return {key_id: int(count) for key_id, count in rows}
