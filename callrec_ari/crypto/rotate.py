"""Master-key rotation: every recording's data key re-wrapped under a new master key.

Only the key rows change; no audio file is read or written. The rows are taken in batches,
each re-wrapped and committed in a transaction of its own, and a row already under the new
key is never taken again: a run that is killed (or stopped by ``limit``) leaves every row
readable, under the old key or the new one, and running again continues where it stopped.
A row wrapped by a master key this configuration does not hold is left alone and counted:
its key file belongs in ``previous_key_files``.

The trail records each run: ``keys.rotation_started`` before the first batch (so a run
killed half-way still shows), ``keys.rotated`` with the counts when it ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.audit import trail
from callrec_ari.crypto.keys import LocalMasterKeys, MasterKey, MasterKeys, Wrapped
from callrec_ari.db.models import RecordingKey

DEFAULT_BATCH = 500


@dataclass(frozen=True, kw_only=True)
class Rotation:
    """What one run did and what is left."""

    to_key: str  # the new master key's id
    rewrapped: int  # rows re-wrapped by this run
    left: int  # rows still under another key this configuration holds (a limit stopped it)
    unknown: dict[str, int]  # master key id -> rows wrapped by a key not held here

    @property
    def complete(self) -> bool:
        """Whether every row is now under the new key."""
        return not self.left and not self.unknown


async def rotate(
    sessions: async_sessionmaker[AsyncSession],
    *,
    keys: MasterKeys,
    new_key: MasterKey,
    actor: str,
    clock: Callable[[], datetime],
    batch_size: int = DEFAULT_BATCH,
    limit: int | None = None,
) -> Rotation:
    """Re-wrap every key row not under ``new_key`` that ``keys`` can unwrap, ``batch_size`` rows
    per transaction, at most ``limit`` rows (None: all)."""
    target = LocalMasterKeys(new_key)
    async with sessions() as session, session.begin():
        counts = await _counts(session, new_key.key_id)
        await trail.append(
            session,
            at=clock(),
            actor=actor,
            action="keys.rotation_started",
            detail={"to": new_key.key_id, "rows_by_key": counts},
        )
    held = [key_id for key_id in counts if keys.holds(key_id)]
    done = 0
    while held and (limit is None or done < limit):
        size = batch_size if limit is None else min(batch_size, limit - done)
        async with sessions() as session, session.begin():
            rows = list(
                await session.scalars(
                    select(RecordingKey)
                    .where(RecordingKey.master_key_id.in_(held))
                    .order_by(RecordingKey.recording_path)
                    .limit(size)
                    .with_for_update()
                )
            )
            if not rows:
                break
            now = clock()
            for row in rows:
                path = row.recording_path
                data_key = keys.unwrap(
                    Wrapped(master_key_id=row.master_key_id, blob=row.wrapped_key), path
                )
                wrapped = target.wrap(data_key, path)
                row.master_key_id, row.wrapped_key = wrapped.master_key_id, wrapped.blob
                row.rewrapped_at = now
            done += len(rows)
    async with sessions() as session, session.begin():
        after = await _counts(session, new_key.key_id)
        result = Rotation(
            to_key=new_key.key_id,
            rewrapped=done,
            left=sum(n for key_id, n in after.items() if keys.holds(key_id)),
            unknown={key_id: n for key_id, n in after.items() if not keys.holds(key_id)},
        )
        await trail.append(
            session,
            at=clock(),
            actor=actor,
            action="keys.rotated",
            detail={
                "to": new_key.key_id,
                "rewrapped": result.rewrapped,
                "left": result.left,
                "unknown_keys": result.unknown,
                "complete": result.complete,
            },
        )
    return result


async def _counts(session: AsyncSession, new_id: str) -> dict[str, int]:
    """Rows per master key, for every key but ``new_id``."""
    rows = await session.execute(
        select(RecordingKey.master_key_id, func.count())
        .where(RecordingKey.master_key_id != new_id)
        .group_by(RecordingKey.master_key_id)
    )
    return {key_id: int(count) for key_id, count in rows}
