"""The training library: making a copy of a marked call, listing, playing and deleting copies.

A copy's row holds nothing that leads back to its call (``db.models.TrainingCopy``): its id
and file name are random tokens, and of when it was made only the month is kept (the file's
modification time is set to that month too). The link to the call exists only in the audit
trail, as ``training.made`` on the original call (who, the voice treatment, how many spans)
without the copy's id; plays, deletions and expiries are audited on the copy
(``training.played``, ``training.deleted``, ``training.purged``) without the call's.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor, may_mark_for_training, may_play_training
from callrec_ari.audit import trail
from callrec_ari.config import Settings
from callrec_ari.db.models import TrainingCopy
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError
from callrec_ari.reasons import require_reason
from callrec_ari.storage.recordings import Offsite
from callrec_ari.training import anonymise
from callrec_ari.training.anonymise import Recipe
from callrec_ari.training.expiry import expires_on, month_start, target
from callrec_ari.training.source import original_for_training, plain_legs
from callrec_ari.training.spans import parse_spans

MAX_TOPIC = 200  # the training_copies.topic column
CONTENT_TYPE = "audio/wav"
_ID = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True, kw_only=True)
class TrainingCopyView:
    """A copy in the library, as trainers and supervisors see it."""

    id: str
    topic: str
    language: str | None
    caller_voice: str
    made_month: str
    expires_on: date

    @classmethod
    def of(cls, row: TrainingCopy) -> TrainingCopyView:
        """The view of a stored row."""
        return cls(
            id=row.id,
            topic=row.topic,
            language=row.language,
            caller_voice=row.caller_voice,
            made_month=row.made_month,
            expires_on=row.expires_on,
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-ready values, the date in ISO 8601."""
        return {**vars(self), "expires_on": self.expires_on.isoformat()}


@dataclass(frozen=True, kw_only=True)
class PlayableCopy:
    """A copy's file, checked, ready to be streamed."""

    id: str
    path: Path
    content_type: str = CONTENT_TYPE


async def make_copy(
    session: AsyncSession,
    *,
    actor: Actor,
    uniqueid: str,
    topic: str,
    spans: str,
    caller: str,
    settings: Settings,
    now: datetime,
    client: str | None,
    offsite: Offsite | None = None,
) -> TrainingCopyView:
    """Make an anonymised copy of call ``uniqueid`` marked by ``actor`` (``caller``:
    ``disguise`` or ``remove``; ``spans`` as ``spans.parse_spans`` reads them).

    Refused as ``source.original_for_training`` says; ``InputError`` for a missing or long
    topic, a bad voice mode or bad spans; ``RecordingError`` if ffmpeg fails.
    """
    if not may_mark_for_training(actor):
        raise ForbiddenError(f"{actor.described} may not mark calls for training.")
    about = require_reason(topic, "topic")
    if len(about) > MAX_TOPIC:
        raise InputError(f"The topic is longer than {MAX_TOPIC} characters.")
    voice = anonymise.caller_voice(caller)
    library = settings.training.dir
    async with original_for_training(
        session,
        actor=actor,
        uniqueid=uniqueid,
        settings=settings,
        recordings_dir=settings.recording.service_dir,
        keys=settings.encryption.master_keys,
        offsite=offsite,
    ) as original:
        silenced = parse_spans(spans, duration=original.duration)
        async with plain_legs(original, library) as (caller_leg, agent_leg):
            recipe = anonymise.draw(
                agent=agent_leg,
                caller=None if voice is anonymise.CallerVoice.REMOVED else caller_leg,
                spans=silenced,
            )
            limit = anonymise.timeout_for(original.duration)
            file, digest = await _write(recipe, library, now, limit)
    row = TrainingCopy(
        id=secrets.token_hex(8),
        file=file,
        sha256=digest,
        topic=about,
        language=original.language,
        caller_voice=recipe.voice.value,
        made_month=month_start(now).strftime("%Y-%m"),
        expires_on=expires_on(now, settings.training.months),
    )
    try:
        session.add(row)
        await session.flush()
        await trail.append(
            session,
            at=now,
            actor=actor.name,
            action="training.made",
            target=original.uniqueid,
            # No copy id: the trail must not join the copy back to the call either.
            detail={"caller_voice": recipe.voice.value, "spans": len(silenced)},
            client=client,
        )
    except BaseException:
        await asyncio.to_thread((library / file).unlink, missing_ok=True)
        raise
    return TrainingCopyView.of(row)


async def list_copies(session: AsyncSession, *, now: datetime) -> list[TrainingCopyView]:
    """The copies in the library (not deleted, not expired), newest month first."""
    rows = await session.scalars(
        select(TrainingCopy)
        .where(TrainingCopy.deleted_at.is_(None), TrainingCopy.expires_on > _today(now))
        .order_by(TrainingCopy.made_month.desc(), TrainingCopy.topic, TrainingCopy.id)
    )
    return [TrainingCopyView.of(row) for row in rows]


async def open_copy(
    session: AsyncSession, *, actor: Actor, copy_id: str, library: Path, now: datetime
) -> PlayableCopy:
    """The file of copy ``copy_id`` for ``actor`` to play (not yet audited: ``record_play``).

    ``ForbiddenError`` unless ``actor`` may play training copies; ``NotFoundError`` for a
    copy that does not exist, was deleted or expired, or whose file is gone.
    """
    if not may_play_training(actor):
        raise ForbiddenError(f"{actor.described} may not play training copies.")
    row = await _live(session, copy_id, now)
    path = await asyncio.to_thread(_file_in, library, row.file)
    if path is None:
        raise NotFoundError(f"Training copy {copy_id!r} has no file.")
    return PlayableCopy(id=row.id, path=path)


async def record_play(
    session: AsyncSession,
    *,
    actor: Actor,
    copy_id: str,
    now: datetime,
    client: str | None,
    repeats: int = 0,
) -> None:
    """Audit a play of copy ``copy_id`` (``repeats``: answers sent since the last entry)."""
    await trail.append(
        session,
        at=now,
        actor=actor.name,
        action="training.played",
        target=target(copy_id),
        detail={"repeats": repeats},
        client=client,
    )


async def delete_copy(
    session: AsyncSession,
    *,
    actor: Actor,
    copy_id: str,
    library: Path,
    now: datetime,
    client: str | None,
) -> TrainingCopyView:
    """Delete copy ``copy_id`` from the library (the file, then the row marked), audited.

    ``ForbiddenError`` unless ``actor`` may mark calls for training; ``NotFoundError`` for a
    copy that does not exist or was deleted already.
    """
    if not may_mark_for_training(actor):
        raise ForbiddenError(f"{actor.described} may not delete training copies.")
    row = await _live(session, copy_id, now, expired_too=True)
    await asyncio.to_thread((library / row.file).unlink, missing_ok=True)
    row.deleted_at = now
    await trail.append(
        session,
        at=now,
        actor=actor.name,
        action="training.deleted",
        target=target(row.id),
        detail={},
        client=client,
    )
    return TrainingCopyView.of(row)


async def _live(
    session: AsyncSession, copy_id: str, now: datetime, *, expired_too: bool = False
) -> TrainingCopy:
    missing = NotFoundError(f"Training copy {copy_id[:40]!r} does not exist.")
    if not _ID.fullmatch(copy_id):
        raise missing
    row = await session.get(TrainingCopy, copy_id)
    if row is None or row.deleted_at is not None:
        raise missing
    if not expired_too and row.expires_on <= _today(now):
        raise missing
    return row


def _file_in(library: Path, name: str) -> Path | None:
    """``name`` in ``library`` resolved, or None if missing or (through a link) elsewhere."""
    try:
        resolved = (library / name).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a loop of links
        return None
    if not resolved.is_relative_to(library.resolve()) or not resolved.is_file():
        return None
    return resolved


def _today(now: datetime) -> date:
    return now.astimezone(UTC).date()


async def _write(
    recipe: Recipe, library: Path, now: datetime, limit_seconds: float
) -> tuple[str, str]:
    """Render ``recipe`` into ``library`` under a random name; the name and its SHA-256.

    Written to a hidden temporary name first and renamed once complete, so the library never
    holds half a copy under a real name.
    """
    await asyncio.to_thread(library.mkdir, parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.wav"
    partial = library / f".partial-{name}"
    try:
        await anonymise.render(recipe, partial, limit_seconds=limit_seconds)
        digest = await asyncio.to_thread(_finish, partial, library / name, month_start(now))
    except BaseException:
        await asyncio.to_thread(partial.unlink, missing_ok=True)
        raise
    return name, digest


def _finish(partial: Path, final: Path, month: datetime) -> str:
    """Hash ``partial``, date it to ``month`` (no exact time), rename it to ``final``."""
    with partial.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    stamp = month.timestamp()
    os.utime(partial, (stamp, stamp))
    partial.replace(final)
    return digest
