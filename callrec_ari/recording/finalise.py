"""Settle a finished recording: wait until MixMonitor has closed the WAV, then measure it.

Asterisk's WAV writer leaves both size fields of the header at 0 while it records and fills
them in as it closes the file, after flushing the audio (``formats/format_wav.c``:
``write_header``, then ``update_header`` in ``wav_close``). So a header whose sizes match the
file's length means the header and data are final (``wav_closed``). This is how callrec knows;
it used to be a ``<file>.done`` marker from MixMonitor's post-process command, but that command
makes Asterisk fork its whole process once per call, which cost it more CPU than the rest of
callrec's call path (issue 13). A ``.done`` marker that an older dialplan still writes counts
as closed too. Size, duration and SHA-256 are the evidence that the file is later unchanged
(seed 000 §2).

A recording the caller withdrew from mid-call (``withdrawal.py``: the dialplan's
``<file>.withdrawn`` marker, or the flow already knowing) is never measured: once MixMonitor
has closed it, it is deleted for good with its markers and settles as ``deleted``.

The same MixMonitor writes the call's two legs beside the mix (``legs.py``) and closes the
three files one after the other, so the recording is settled once every one of them that
exists is closed. Each leg is measured like the mix (size, SHA-256), so any copy of a leg can
be checked against the row; a leg that is missing or unreadable is logged and stored as unknown, and
never turns a good mix into a failed recording.

A recording Asterisk left open because it died mid-call is repaired first (``repair.py``),
which leaves ``<file>.interrupted``: such a recording counts as closed (nothing will ever close
it), is measured at once, and settles with ``interrupted_by`` (``pbx``), or as ``failed`` if
its file could not be repaired.
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
import time
import wave
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog

from callrec_ari.errors import RecordingError
from callrec_ari.recording import repair, withdrawal
from callrec_ari.recording.audio import StoredAudio
from callrec_ari.recording.legs import leg_files
from callrec_ari.records import RecordingStatus

log = structlog.get_logger(__name__)

MARKER_SUFFIX = ".done"
_WAV_HEADER = 44
_CHUNK = 1 << 20


@dataclass(frozen=True, kw_only=True)
class WavFacts:
    """What a closed WAV file is: its size, length and fingerprint."""

    size_bytes: int
    duration_seconds: float
    sha256: str


@dataclass(frozen=True, kw_only=True)
class Settled:
    """The outcome of waiting for one recording."""

    status: RecordingStatus
    facts: WavFacts | None = None
    reason: str = ""
    withdrawn_at: datetime | None = None  # the dialplan's withdrawal marker's time, if any
    caller_leg: WavFacts | None = None  # the data subject's voice alone (legs.py)
    agent_leg: WavFacts | None = None  # the staff member's voice alone
    interrupted_by: str | None = None  # what cut the recording short (repair.PBX), if anything


def marker_for(path: Path) -> Path:
    """The marker an older dialplan's MixMonitor post-process command creates when ``path``
    is closed (today's dialplan writes none: ``wav_closed`` tells)."""
    return path.with_name(path.name + MARKER_SUFFIX)


def wav_closed(path: Path) -> bool | None:
    """Whether Asterisk has closed the WAV ``path``: True once its header's RIFF and data
    sizes match the file's length, False while they do not, None if there is no file.

    A file with no audio at all looks the same open and closed (sizes 0, 44 bytes): the
    caller of this decides by waiting a little more (``settle``).
    """
    try:
        with path.open("rb") as handle:
            header = handle.read(_WAV_HEADER)
            size = handle.seek(0, 2)
    except FileNotFoundError:
        return None
    except OSError:
        return False
    if len(header) < _WAV_HEADER or header[:4] != b"RIFF" or header[36:40] != b"data":
        return False
    riff, data = struct.unpack_from("<I", header, 4)[0], struct.unpack_from("<I", header, 40)[0]
    # wav_close pads an odd data length with one byte after it has written the header.
    return riff == data + 36 and size - _WAV_HEADER - data in (0, 1)


def recording_closed(path: Path) -> bool | None:
    """Whether the mix ``path`` and the legs beside it are all closed (``wav_closed``), or
    an older dialplan's ``.done`` marker (or a repair's ``.interrupted``) says so; None if no
    file of the recording exists."""
    if marker_for(path).exists() or repair.marker_path(path).exists():
        return True
    states = [wav_closed(file) for file in (path, *leg_files(path))]
    present = [state for state in states if state is not None]
    if not present:
        return None
    return all(present)


def inspect_wav(source: Path | StoredAudio) -> WavFacts:
    """Measure a closed WAV (a plain file, or a stored recording, decrypted as it is read);
    ``RecordingError`` if it is missing, truncated, not a WAV, or does not decrypt."""
    stored = source if isinstance(source, StoredAudio) else StoredAudio(path=source)
    path = stored.path
    digest = hashlib.sha256()
    try:
        with stored.open() as handle:
            size = 0
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
            handle.seek(0)
            with wave.open(handle, "rb") as wav:
                frames, rate = wav.getnframes(), wav.getframerate()
                expected = frames * wav.getsampwidth() * wav.getnchannels()
    except FileNotFoundError:
        raise RecordingError(f"The recording {path} does not exist.") from None
    except (OSError, wave.Error, EOFError) as exc:
        raise RecordingError(f"The recording {path} is not a readable WAV file ({exc}).") from None
    if rate <= 0 or size < _WAV_HEADER + expected:
        raise RecordingError(f"The recording {path} is truncated ({size} bytes).")
    return WavFacts(size_bytes=size, duration_seconds=frames / rate, sha256=digest.hexdigest())


async def settle(
    path: Path, *, wait_seconds: float, poll: float = 0.05, discard: bool = False
) -> Settled:
    """Wait up to ``wait_seconds`` for MixMonitor to close the recording (``recording_closed``),
    then measure it (and drop an older dialplan's ``.done`` marker).

    With ``discard`` (the flow knows the caller withdrew), or when the dialplan's withdrawal
    marker is there, the file is deleted instead of measured: ``deleted``, even if MixMonitor
    never closed it in time (unlinking an open file still takes its name and, once closed,
    its data).
    """
    marker = marker_for(path)
    deadline = time.monotonic() + wait_seconds
    # A closed file without audio looks like one just opened: believe it on a second look.
    seen_empty = False
    while True:
        closed = recording_closed(path)
        if closed is None:
            break  # no file: never bridged (measured as empty), or withdrawn and swept
        if closed:
            if not _empty(path) or seen_empty:
                break
            seen_empty = True
        withdrawn, audio = _withdrawal_state(path, discard)
        if withdrawn and not audio:
            break  # nothing left to close: an orphan sweep already took the audio
        if time.monotonic() >= deadline:
            if withdrawn:
                break
            return Settled(
                status=RecordingStatus.FAILED,
                reason=f"MixMonitor did not close {path} within {wait_seconds:.0f} seconds",
            )
        await asyncio.sleep(poll)
    return await asyncio.to_thread(_measure, path, marker, discard)


def _empty(path: Path) -> bool:
    try:
        return path.stat().st_size <= _WAV_HEADER
    except OSError:
        return False


def _withdrawal_state(path: Path, discard: bool) -> tuple[bool, bool]:
    """Whether the caller withdrew (as the flow knows or the marker says), and whether the
    audio (the mix or a leg) still exists."""
    audio = any(file.exists() for file in (path, *leg_files(path)))
    return discard or withdrawal.marker_path(path).exists(), audio


def _measure(path: Path, marker: Path, discard: bool = False) -> Settled:
    cut_by = repair.interrupted_by(path)
    try:
        return _measured(path, marker, discard, cut_by)
    finally:
        repair.marker_path(path).unlink(missing_ok=True)


def _measured(path: Path, marker: Path, discard: bool, cut_by: str | None) -> Settled:
    if discard or withdrawal.marker_path(path).exists():
        gone = withdrawal.discard(path, marker)
        return Settled(
            status=RecordingStatus.DELETED,
            withdrawn_at=gone.withdrawn_at,
            reason="the caller withdrew consent during the call: deleted",
        )
    try:
        if not path.exists():
            # Option b records only while bridged: a call never answered has no audio at all.
            return Settled(status=RecordingStatus.EMPTY, reason="the call was never bridged")
        try:
            facts = inspect_wav(path)
        except RecordingError as exc:
            reason = str(exc)
            if cut_by is not None:
                reason = (
                    f"Asterisk stopped during the call and left a file it could not repair: {exc}"
                )
            return Settled(status=RecordingStatus.FAILED, reason=reason, interrupted_by=cut_by)
        # Measured even beside an empty mix: a leg with audio is personal data the row must
        # know by its hash too (it goes with the mix under every deletion rule).
        caller, agent = (_leg_facts(leg) for leg in leg_files(path))
        status = RecordingStatus.COMPLETE
        reason = ""
        if facts.duration_seconds == 0:
            status, reason = RecordingStatus.EMPTY, "no audio frames"
        return Settled(
            status=status,
            facts=facts,
            reason=reason,
            caller_leg=caller,
            agent_leg=agent,
            interrupted_by=cut_by,
        )
    finally:
        marker.unlink(missing_ok=True)


def _leg_facts(path: Path) -> WavFacts | None:
    """A leg's facts, or None (logged) if it is missing or unreadable: the mix still stands."""
    try:
        return inspect_wav(path)
    except RecordingError as exc:
        log.warning("recording.leg_unreadable", leg=path.name, error=str(exc))
        return None
