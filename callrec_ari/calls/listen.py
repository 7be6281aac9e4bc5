"""Playing a call's recording: a stated reason first, the file checked, audited.

Playing is no copy: a copy leaves only as a release or a data-subject export (``access.py``).

The file is served only from inside the recordings folder: a stored path that would lead
out of it (``..``, an absolute path, a symbolic link pointing elsewhere) is treated as no
recording at all, and never opened. With object storage (``offsite``) a sealed recording no
longer in the folder is looked for in the outbox, then in the store (``remote``: played by
ranges from there, or fetched whole by ``local_audio``).
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor, may_play
from callrec_ari.audit import trail
from callrec_ari.calls.agents import call_facts
from callrec_ari.calls.search import visible_call
from callrec_ari.crypto.keys import MasterKeys
from callrec_ari.crypto.store import data_key
from callrec_ari.db.models import Call
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError, RecordingError
from callrec_ari.reasons import require_reason
from callrec_ari.recording.audio import StoredAudio, sealed_path
from callrec_ari.recording.paths import service_path
from callrec_ari.records import RecordingStatus
from callrec_ari.storage.encrypted_range import EncryptedObject, downloaded, open_object
from callrec_ari.storage.recordings import Offsite, Place, locate

CONTENT_TYPE = "audio/wav"
MAX_REASON = 1000  # characters: a reason, not a report


class ReasonCategory(enum.StrEnum):
    """Why someone listens, as a category the audit trail can be sorted by."""

    QUALITY = "quality"
    COMPLAINT = "complaint"
    DISPUTE = "dispute"
    LEGAL = "legal"
    DATA_SUBJECT = "data_subject"
    TRAINING = "training"


@dataclass(frozen=True, kw_only=True)
class Listening:
    """A recording file that may be sent to the person who asked for it."""

    path: Path  # the file on disk: the plain WAV, or its encrypted form (in the outbox too)
    size_bytes: int  # of the WAV (the plaintext, when encrypted)
    uniqueid: str
    content_type: str
    audit_seq: int | None = None  # the trail entry holding the stated reason, if one was
    key: bytes | None = field(default=None, repr=False)  # the data key of an encrypted file
    remote: EncryptedObject | None = None  # set when only the object store holds it

    @property
    def audio(self) -> StoredAudio:
        """The file on disk, to open as the WAV's bytes whether it is encrypted or not
        (``RecordingError`` for a ``remote`` one: see ``local_audio``)."""
        if self.remote is not None:
            raise RecordingError(f"The recording of call {self.uniqueid} is in the store only.")
        return StoredAudio(path=self.path, key=self.key)

    @contextlib.asynccontextmanager
    async def local_audio(self) -> AsyncIterator[StoredAudio]:
        """The file as ``audio``, or, for a ``remote`` one, its ciphertext fetched to a
        private temporary file for the time of the block."""
        if self.remote is None or self.key is None:
            yield self.audio
            return
        async with downloaded(self.remote, self.key) as audio:
            yield audio


async def open_recording(
    session: AsyncSession,
    *,
    actor: Actor,
    uniqueid: str,
    reason: str,
    category: str,
    recordings_dir: Path,
    min_reason: int,
    now: datetime,
    client: str | None,
    keys: MasterKeys | None = None,
    offsite: Offsite | None = None,
) -> Listening:
    """The recording of one call for ``actor`` to play, audited with the reason.

    ``InputError`` for a reason with fewer than ``min_reason`` visible characters or an unknown
    category; ``NotFoundError`` if the call does not exist, is not theirs to see, or has no
    recording on disk; ``ForbiddenError`` if they may see the call but not hear it.
    """
    # Checked before the call is looked up, so the answer says nothing about which calls exist.
    why = require_reason(reason, "reason", minimum=min_reason)
    if len(why) > MAX_REASON:
        raise InputError(f"The reason is longer than {MAX_REASON} characters.")
    kind = _category(category)
    call = await visible_call(session, actor=actor, uniqueid=uniqueid)
    if not may_play(actor, await call_facts(session, call)):
        raise ForbiddenError(f"{actor.described} may not listen to call {uniqueid!r}.")
    listening = await playable(session, call, recordings_dir, keys, offsite)
    entry = await trail.append(
        session,
        at=now,
        actor=actor.name,
        action="play",
        target=call.uniqueid,
        detail={"reason": why, "category": kind.value},
        client=client,
    )
    return replace(listening, audit_seq=entry.seq)


async def recheck(
    session: AsyncSession,
    *,
    actor: Actor,
    uniqueid: str,
    recordings_dir: Path,
    keys: MasterKeys | None = None,
    offsite: Offsite | None = None,
) -> Listening:
    """The recording for someone who stated a reason earlier, with the rules run again on
    ``actor`` and the call as they are now (a reason is remembered, a right is not).

    ``NotFoundError`` if the call is gone, no longer theirs to see, or its recording was
    deleted (purge, erasure); ``ForbiddenError`` if they may no longer hear it (the call
    was restricted, or their roles changed).
    """
    call = await visible_call(session, actor=actor, uniqueid=uniqueid)
    if not may_play(actor, await call_facts(session, call)):
        raise ForbiddenError(f"{actor.described} may not listen to call {uniqueid!r}.")
    return await playable(session, call, recordings_dir, keys, offsite)


async def playable(
    session: AsyncSession,
    call: Call,
    recordings_dir: Path,
    keys: MasterKeys | None,
    offsite: Offsite | None = None,
) -> Listening:
    """``recording_of`` with the data key of an encrypted recording looked up and unwrapped;
    with ``offsite``, a sealed recording gone from the folder is found in the outbox or the
    store.

    ``NotFoundError`` as there; ``RecordingError`` if the key row exists and does not open;
    ``StorageError`` if the store cannot be reached.
    """
    key = None
    if call.recording_path and call.purged_at is None:
        key = await data_key(session, keys, call.recording_path)
    try:
        return recording_of(call, recordings_dir, key)
    except NotFoundError:
        if offsite is None or key is None or call.recording_path is None:
            raise
        found = await _offsite_recording(call, recordings_dir, key, offsite)
        if found is None:
            raise
        return found


async def _offsite_recording(
    call: Call, recordings_dir: Path, key: bytes, offsite: Offsite
) -> Listening | None:
    """The call's sealed mix in the outbox or the store, or None."""
    relative = call.recording_path or ""
    try:
        plain = service_path(recordings_dir, relative)
    except RecordingError:
        return None
    found = await locate(plain, relative, offsite)
    if found is None or found.place in {Place.PLAIN, Place.SEALED}:
        return None  # appeared in the folder meanwhile: recording_of's answer stands
    listening = Listening(
        path=found.path or plain,
        size_bytes=0,
        uniqueid=call.uniqueid,
        content_type=CONTENT_TYPE,
        key=key,
    )
    if found.place is Place.OUTBOX:
        try:
            return replace(listening, size_bytes=listening.audio.size())
        except OSError:  # uploaded and removed since: it is in the store now
            found = await locate(plain, relative, offsite)
            if found is None:
                return None
    if found.key is None:
        return None  # back in the outbox (uploaded again): the next request finds it
    remote = await open_object(offsite.store, found.key)
    return replace(listening, remote=remote, size_bytes=remote.size)


def recording_of(call: Call, recordings_dir: Path, key: bytes | None = None) -> Listening:
    """The call's complete recording file; ``NotFoundError`` if there is none to send.

    The plain WAV if it is there, else its encrypted form with ``key`` (none: missing). A
    path leaving ``recordings_dir`` counts as missing: it is never followed.
    """
    missing = NotFoundError(f"Call {call.uniqueid!r} has no recording.")
    if (
        call.recording_status != RecordingStatus.COMPLETE
        or call.purged_at is not None
        or not call.recording_path
    ):
        raise missing
    try:
        path = service_path(recordings_dir, call.recording_path)
    except RecordingError:
        raise missing from None
    resolved = _inside(recordings_dir, path)
    if resolved is not None:
        key = None
    elif key is not None:
        resolved = _inside(recordings_dir, sealed_path(path))
    if resolved is None:
        raise missing
    audio = StoredAudio(path=resolved, key=key)
    try:
        size = audio.size()
    except (OSError, RecordingError):
        raise missing from None
    return Listening(
        path=resolved, size_bytes=size, uniqueid=call.uniqueid, content_type=CONTENT_TYPE, key=key
    )


def _inside(recordings_dir: Path, path: Path) -> Path | None:
    """``path`` resolved, if it is a file inside ``recordings_dir``; else None."""
    try:
        # Resolved, so that a link inside the folder to a file outside it is caught too.
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, unreadable folder, or a loop of links
        return None
    if not resolved.is_relative_to(recordings_dir.resolve()) or not resolved.is_file():
        return None
    return resolved


def _category(text: str) -> ReasonCategory:
    try:
        return ReasonCategory(text.strip().lower())
    except ValueError:
        known = ", ".join(category.value for category in ReasonCategory)
        raise InputError(f"The reason category {text[:32]!r} is not one of {known}.") from None
