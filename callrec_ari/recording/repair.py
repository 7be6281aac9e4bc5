"""A recording Asterisk left open when it died: its WAV header repaired from the file's length.

Asterisk's WAV writer writes a 44-byte header with both sizes 0 and fills them in as it closes
the file (``finalise.py``). When Asterisk is killed mid-call (a crash, ``kill -9``, a power
loss) nothing closes the mix or its legs: the audio up to the last flush of its write buffer
is on disk, but standard tools refuse a WAV whose sizes are 0. The sizes follow from the
file's length alone, so they can be written afterwards:

    data = (length - 44) rounded down to whole sample frames     RIFF = data + 36

A cut mid-sample leaves up to ``block_align - 1`` bytes after the data: they stay in the file,
outside the data chunk (as the pad byte ``wav_close`` adds after odd data does), so nothing
Asterisk wrote is removed. A file too short for the header, or whose header is not a PCM
WAV's, cannot be repaired and settles as ``failed``.

When a file counts as left by a crash rather than still being written: the call's channel is
gone from Asterisk (``ChannelEnded(lost=True)``: unknown after a reconnect or at adoption),
the header is not closed, and no file of the recording changed for ``QUIET_SECONDS``. A live
MixMonitor flushes its 32 KB stdio buffer every ~2 s of audio (16 kB/s of 8 kHz 16-bit), so
three quiet seconds mean nobody writes it.

The repair rewrites the 40 header bytes after the ``RIFF`` id in place, in one ``pwrite``
within the first disk sector, between two ``fsync``s: the first makes the audio the sizes
count durable before the header claims it. Nothing else is touched, and the new sizes depend
only on the length, so a crash during the repair leaves a file the next repair fixes the same
way (a copy and rename would double the I/O and the disk space of an hour-long call for no
gain). The file's modification time is put back: it is when the audio ended.

After repairing, ``<mix>.interrupted`` is written beside the recording: it tells ``settle``
that nothing will ever close the files (so it measures them at once) and that the recording
was cut by a PBX failure, also after a restart of callrec between the repair and the row.
"""

from __future__ import annotations

import asyncio
import os
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

from callrec_ari.recording.legs import leg_files

log = structlog.get_logger(__name__)

HEADER = 44
MARKER_SUFFIX = ".interrupted"
PBX = "pbx"  # the cause the row names: the PBX (Asterisk) stopped during the call
QUIET_SECONDS = 3.0
_FORMAT = "callrec-interrupted/1"
_PCM = 1


@dataclass(frozen=True, kw_only=True)
class Sizes:
    """The two size fields of a WAV header."""

    riff: int  # bytes after the RIFF chunk's size field that belong to it
    data: int  # bytes of audio in the data chunk


def header_sizes(header: bytes) -> Sizes | None:
    """The sizes ``header`` claims, or None if it is not a 44-byte PCM WAV header."""
    if not _asterisk_header(header):
        return None
    return Sizes(
        riff=struct.unpack_from("<I", header, 4)[0], data=struct.unpack_from("<I", header, 40)[0]
    )


def repaired_sizes(header: bytes, length: int) -> Sizes | None:
    """The sizes a WAV of ``length`` bytes starting with ``header`` must carry (whole sample
    frames only), or None if it cannot be repaired: shorter than a header, or not a PCM WAV's."""
    if length < HEADER or not _asterisk_header(header):
        return None
    align = struct.unpack_from("<H", header, 32)[0]
    data = (length - HEADER) // align * align
    return Sizes(riff=data + HEADER - 8, data=data)


def closed(sizes: Sizes, length: int) -> bool:
    """Whether ``sizes`` are those of a closed WAV of ``length`` bytes (as Asterisk closes
    them: ``wav_close`` may add one pad byte after odd data)."""
    return sizes.riff == sizes.data + HEADER - 8 and length - HEADER - sizes.data in (0, 1)


def patched(header: bytes, sizes: Sizes) -> bytes:
    """``header`` with ``sizes`` written into it."""
    fixed = bytearray(header[:HEADER])
    struct.pack_into("<I", fixed, 4, sizes.riff)
    struct.pack_into("<I", fixed, 40, sizes.data)
    return bytes(fixed)


def _asterisk_header(header: bytes) -> bool:
    if len(header) < HEADER or header[:4] != b"RIFF" or header[8:16] != b"WAVEfmt ":
        return False
    fmt_size, audio_format = struct.unpack_from("<IH", header, 16)
    align = struct.unpack_from("<H", header, 32)[0]
    return fmt_size == 16 and audio_format == _PCM and align > 0 and header[36:40] == b"data"


class Outcome:
    """What ``repair_file`` found (plain strings: they go into logs)."""

    MISSING = "missing"
    CLOSED = "closed"  # already closed: left alone
    REPAIRED = "repaired"
    UNREPAIRABLE = "unrepairable"


def repair_file(path: Path) -> str:
    """Write the sizes the length of ``path`` implies into its header (``Outcome``)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return Outcome.MISSING
    except OSError as exc:
        log.warning("recording.unreadable", path=path.name, error=str(exc))
        return Outcome.UNREPAIRABLE
    try:
        stat = os.fstat(fd)
        header = os.pread(fd, HEADER, 0)
        current = header_sizes(header)
        if current is not None and closed(current, stat.st_size):
            return Outcome.CLOSED
        sizes = repaired_sizes(header, stat.st_size)
        if sizes is None:
            return Outcome.UNREPAIRABLE
        os.fsync(fd)  # the audio the new sizes count is on disk before the header says so
        os.pwrite(fd, patched(header, sizes)[4:], 4)
        os.fsync(fd)
        os.utime(fd, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    except OSError as exc:
        log.warning("recording.repair_failed", path=path.name, error=str(exc))
        return Outcome.UNREPAIRABLE
    finally:
        os.close(fd)
    return Outcome.REPAIRED


def marker_path(mix: Path) -> Path:
    """Where ``<mix>.interrupted`` goes: the recording was cut by a PBX failure."""
    return mix.with_name(mix.name + MARKER_SUFFIX)


def interrupted_by(mix: Path) -> str | None:
    """What cut the recording ``mix`` short (``PBX``), from its marker; None if nothing did."""
    try:
        text = marker_path(mix).read_text("ascii", errors="replace")
    except FileNotFoundError:
        return None
    fields = text.strip().split("|")
    return fields[1] if len(fields) >= 2 and fields[0] == _FORMAT and fields[1] else PBX


def _write_marker(mix: Path, outcomes: dict[str, str], clock: Callable[[], float]) -> None:
    files = ",".join(f"{name}={outcome}" for name, outcome in outcomes.items())
    marker = marker_path(mix)
    with marker.open("w", encoding="ascii") as handle:
        handle.write(f"{_FORMAT}|{PBX}|{clock():.3f}|{files}\n")
        handle.flush()
        os.fsync(handle.fileno())


def _state(paths: tuple[Path, ...]) -> tuple[tuple[int, int] | None, ...]:
    states: list[tuple[int, int] | None] = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            states.append(None)
        else:
            states.append((stat.st_size, stat.st_mtime_ns))
    return tuple(states)


async def quiet(paths: tuple[Path, ...], seconds: float, poll: float = 0.25) -> bool:
    """Whether none of ``paths`` changes (size or modification time) for ``seconds``."""
    first = _state(paths)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await asyncio.sleep(min(poll, max(deadline - time.monotonic(), 0)))
        if _state(paths) != first:
            return False
    return True


async def repair_left_by_crash(
    mix: Path, *, quiet_seconds: float = QUIET_SECONDS, clock: Callable[[], float] = time.time
) -> bool:
    """Repair the recording ``mix`` (and its legs) if the PBX left it open, and mark it
    ``interrupted``; True if it did. Call it only when the call's channel is gone.

    A recording already closed, missing, or still changing is left to ``settle``.
    """
    files = (mix, *leg_files(mix))
    headers = await asyncio.to_thread(_open_files, files)
    if not headers or not await quiet(files, quiet_seconds):
        return False
    outcomes = await asyncio.to_thread(_repair_all, mix, files, clock)
    log.warning("recording.repaired", file=mix.name, **outcomes)
    return True


def _open_files(files: tuple[Path, ...]) -> list[Path]:
    """Those of ``files`` that exist with a header not closed (or not readable as one)."""
    found = []
    for path in files:
        try:
            with path.open("rb") as handle:
                header = handle.read(HEADER)
                length = handle.seek(0, 2)
        except FileNotFoundError:
            continue
        except OSError:
            found.append(path)
            continue
        sizes = header_sizes(header)
        if sizes is None or not closed(sizes, length):
            found.append(path)
    return found


def _repair_all(mix: Path, files: tuple[Path, ...], clock: Callable[[], float]) -> dict[str, str]:
    outcomes = {path.name: repair_file(path) for path in files}
    _write_marker(mix, outcomes, clock)
    return outcomes
