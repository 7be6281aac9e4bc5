"""The call a training copy is made from: who may mark it, which calls qualify, its two legs.

A supervisor who may play the call marks it. The call qualifies when its processing is not
restricted (GDPR Art. 18), its recording is kept (not withdrawn, purged or missing), its
route's processing lists the purpose ``training`` (what callers were told; outbound calls
have the profile's processing) and both legs are on disk (calls recorded before callrec
kept the two voices apart have none). A legal hold does not matter: the copy is new
material, the original is untouched. Legs only the object store holds are fetched (their
ciphertext, into a private temporary folder) for as long as the original is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor, may_mark_for_training, may_play
from callrec_ari.calls.listen import playable
from callrec_ari.calls.search import visible_call
from callrec_ari.config import Settings
from callrec_ari.crypto.keys import MasterKeys
from callrec_ari.db.models import Call
from callrec_ari.errors import ForbiddenError, NotFoundError, RecordingError
from callrec_ari.profile.model import Processing, Purpose
from callrec_ari.recording.audio import StoredAudio, copy_plain, stored_audio
from callrec_ari.recording.legs import leg_files, legs_of
from callrec_ari.recording.paths import service_path
from callrec_ari.records import Direction
from callrec_ari.rights.subject import facts
from callrec_ari.routing import store as routing
from callrec_ari.storage.recordings import Offsite, fetched


@dataclass(frozen=True, kw_only=True)
class Original:
    """What a copy is made from, and the little of the call it may keep."""

    uniqueid: str
    caller_leg: StoredAudio  # plain or encrypted: ``plain_legs`` gives files ffmpeg can read
    agent_leg: StoredAudio
    duration: float  # seconds: the longer leg's
    language: str | None  # the call's first language


@contextlib.asynccontextmanager
async def original_for_training(
    session: AsyncSession,
    *,
    actor: Actor,
    uniqueid: str,
    settings: Settings,
    recordings_dir: Path,
    keys: MasterKeys | None = None,
    offsite: Offsite | None = None,
) -> AsyncIterator[Original]:
    """The call ``uniqueid`` as material for a training copy by ``actor``, for the time of
    the block (legs fetched from the object store are removed after it).

    ``ForbiddenError`` if ``actor`` may not mark calls or play this one, the call is
    restricted, or its route's purposes leave out training; ``NotFoundError`` if it does not
    exist, is not theirs to see or has no recording; ``RecordingError`` if its legs are
    missing or unreadable.
    """
    if not may_mark_for_training(actor):
        raise ForbiddenError(f"{actor.described} may not mark calls for training.")
    call = await visible_call(session, actor=actor, uniqueid=uniqueid)
    if call.restricted_at is not None:
        raise ForbiddenError(
            f"Call {uniqueid!r} is restricted (GDPR Art. 18): no training copy may be made of it."
        )
    if not may_play(actor, facts(call)):
        raise ForbiddenError(f"{actor.described} may not listen to call {uniqueid!r}.")
    if call.withdrawn_at is not None:
        raise NotFoundError(
            f"The caller withdrew consent during call {uniqueid!r}: its recording was deleted."
        )
    listening = await playable(session, call, recordings_dir, keys, offsite)  # NotFound: none
    _require_training_purpose(await routing.effective(session, settings), call)
    relative = call.recording_path or ""
    mix = service_path(recordings_dir, relative)
    key = listening.key
    remote = [(leg, key) for leg in legs_of(relative)] if key is not None else []
    async with fetched(recordings_dir, remote, offsite) as elsewhere:
        caller, agent = await asyncio.to_thread(
            _legs,
            uniqueid,
            mix,
            key,
            recordings_dir,
            [elsewhere.get(leg) for leg in legs_of(relative)],
        )
        duration = await asyncio.to_thread(lambda: max(_seconds(caller), _seconds(agent)))
        yield Original(
            uniqueid=call.uniqueid,
            caller_leg=caller,
            agent_leg=agent,
            duration=duration,
            language=next(iter(filter(None, call.languages.split(","))), None),
        )


def processing_of(settings: Settings, call: Call) -> tuple[str, Processing]:
    """Which calls the call's processing covers, for messages, and that processing: its
    route's, or the profile's for an outbound call (outbound routes have none of their own)."""
    if call.direction == Direction.OUTBOUND:
        return "Outbound calls", settings.profile.processing
    route = settings.route_for(call.dialled_number)
    return f"Calls to {call.dialled_number}", settings.processing_for(route)


def _require_training_purpose(settings: Settings, call: Call) -> None:
    which, processing = processing_of(settings, call)
    if Purpose.TRAINING not in processing.purposes:
        purposes = ", ".join(purpose.value for purpose in processing.purposes) or "nothing"
        raise ForbiddenError(
            f"{which} are recorded for {purposes}, not for training: the callers were not told "
            "their calls may be used for training."
        )


def _legs(
    uniqueid: str,
    mix: Path,
    key: bytes | None,
    recordings_dir: Path,
    elsewhere: list[StoredAudio | None],
) -> tuple[StoredAudio, StoredAudio]:
    """Both legs as stored (in the folder, else ``elsewhere``: the outbox or a fetched copy);
    ``RecordingError`` if one is missing or leads out of the recordings folder."""
    root = recordings_dir.resolve()
    found = []
    for who, leg, away in zip(("caller", "agent"), leg_files(mix), elsewhere, strict=True):
        stored = stored_audio(leg, key)
        if stored is None and away is not None:
            found.append(away)
            continue
        if stored is None or not stored.path.resolve().is_relative_to(root):
            raise RecordingError(
                f"Call {uniqueid!r} has no separate {who} leg (recorded before callrec kept "
                "the two voices apart): no training copy can be made of it."
            )
        found.append(stored)
    return found[0], found[1]


def _seconds(leg: StoredAudio) -> float:
    try:
        with leg.open() as handle, wave.open(handle, "rb") as wav:
            return wav.getnframes() / wav.getframerate()
    except (OSError, wave.Error, EOFError, ZeroDivisionError) as exc:
        raise RecordingError(
            f"The leg {leg.path.name} is not a readable WAV file ({exc})."
        ) from None


@contextlib.asynccontextmanager
async def plain_legs(original: Original, work_dir: Path) -> AsyncIterator[tuple[Path, Path]]:
    """The caller's and the agent's legs as plain WAV files ffmpeg can read.

    Encrypted legs are decrypted into a private folder (mode 0700) in ``work_dir`` for as
    long as the copy takes to make, and removed after, whatever happens.
    """
    caller, agent = original.caller_leg, original.agent_leg
    if not caller.encrypted and not agent.encrypted:
        yield caller.path, agent.path
        return
    await asyncio.to_thread(work_dir.mkdir, parents=True, exist_ok=True)
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix=".legs-", dir=work_dir))
    try:
        plain = folder / "caller.wav", folder / "agent.wav"
        await asyncio.to_thread(copy_plain, caller, plain[0])
        await asyncio.to_thread(copy_plain, agent, plain[1])
        yield plain
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)
