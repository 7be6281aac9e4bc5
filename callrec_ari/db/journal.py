"""The call journal: every call snapshot is appended to a local file before the database sees it.

The journal is a folder of append-only JSON-lines segments (``<first seq>.jsonl``, one
snapshot per line, each with a sequence number) and a checkpoint file, ``applied``, holding
the highest sequence number whose snapshot (or a newer one of the same call) the database has
stored. On start-up every entry after the checkpoint is handed back to be stored again;
storing is an idempotent upsert, so an entry applied twice (a crash after the database
commit, before the checkpoint) does no harm.

Durability: ``append`` is one ``write`` on an ``O_APPEND`` descriptor, so a snapshot survives
the process being killed the moment ``append`` returns. ``sync`` (fsync) runs off the call
path, before each database write, so a power cut can only lose snapshots written in the last
moments, never one the database was about to be told about. The checkpoint is replaced
atomically (write, fsync, rename). A torn last line (a crash mid-write) is dropped on
start-up; a damaged line in the middle is logged and skipped, and the rest are kept.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from dataclasses import dataclass
from pathlib import Path

import orjson
import structlog

from callrec_ari.errors import DatabaseError
from callrec_ari.records import CallRecord

log = structlog.get_logger(__name__)

CHECKPOINT = "applied"
_SUFFIX = ".jsonl"
_SEGMENT_BYTES = 8 * 1024 * 1024  # start a new segment past this size, so old ones can go


@dataclass(frozen=True, slots=True)
class Entry:
    """One journalled snapshot."""

    seq: int
    record: CallRecord


class Journal:
    """An open journal folder. Not thread-safe: one writer (the event loop) plus ``sync``."""

    def __init__(self, folder: Path, *, segment_bytes: int = _SEGMENT_BYTES) -> None:
        """Open (creating if needed) the journal in ``folder`` and read what is not applied."""
        self.folder = folder
        self._segment_bytes = segment_bytes
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._applied = self._read_checkpoint()
            self._unapplied, last_seq = self._read_segments()
        except OSError as exc:
            raise DatabaseError(f"The call journal {folder} cannot be opened: {exc}.") from exc
        self._seq = max(last_seq, self._applied)
        self._fd = -1
        self._retired: list[int] = []
        self._segment_size = 0
        self._open_segment(self._seq + 1)

    @property
    def last_seq(self) -> int:
        """The sequence number of the newest entry (0 for a new journal)."""
        return self._seq

    @property
    def applied(self) -> int:
        """The checkpoint: every entry up to this one is in the database."""
        return self._applied

    def unapplied(self) -> list[Entry]:
        """The entries found after the checkpoint when the journal was opened, oldest first."""
        return list(self._unapplied)

    def append(self, record: CallRecord) -> int:
        """Write one snapshot; return its sequence number. Raises ``OSError`` (e.g. disk full)."""
        # A number is used up even if the write fails: gaps are harmless, reuse is not.
        self._seq = seq = self._seq + 1
        # orjson writes the record's dataclasses, times and enums itself: the same JSON as
        # ``to_json`` (plus empty evidence fields), without building it in Python first.
        data = orjson.dumps({"seq": seq, "record": record}) + b"\n"
        if self._segment_size + len(data) > self._segment_bytes and self._segment_size:
            self._open_segment(seq)
        try:
            written = os.write(self._fd, data)
        except OSError:
            self._cut_partial_line()
            raise
        if written != len(data):  # only on a full disk
            self._cut_partial_line()
            raise OSError(f"short write to the call journal ({written} of {len(data)} bytes)")
        self._segment_size += written
        return seq

    def _cut_partial_line(self) -> None:
        # Otherwise the next entry would be glued to the partial one and be lost with it.
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, self._segment_size)

    def sync(self) -> None:
        """Flush appended entries to disk (fsync), from one worker thread at a time."""
        # Segments retired by append() are closed here, never under a running fsync.
        retired, self._retired = self._retired, []
        for fd in retired:
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.fsync(self._fd)

    def mark_applied(self, seq: int) -> None:
        """Record that the database holds everything up to ``seq``; drop segments no longer needed.

        Blocking (fsync and rename): call it from a worker thread.
        """
        if seq <= self._applied:
            return
        target = self.folder / CHECKPOINT
        temporary = target.with_suffix(".tmp")
        with temporary.open("w", encoding="ascii") as file:
            file.write(f"{seq}\n")
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(target)
        self._fsync_folder()
        self._applied = seq
        self._drop_applied_segments()

    def close(self) -> None:
        """Flush and close; call it once nothing appends or syncs any more."""
        retired, self._retired = self._retired, []
        for fd in retired:
            with contextlib.suppress(OSError):
                os.fsync(fd)
            os.close(fd)
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1

    def _open_segment(self, first_seq: int) -> None:
        if self._fd >= 0:
            self._retired.append(self._fd)
        path = self.folder / f"{first_seq:020d}{_SUFFIX}"
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._segment_size = os.fstat(self._fd).st_size
        self._fsync_folder()

    def _segments(self) -> list[Path]:
        return sorted(self.folder.glob(f"*{_SUFFIX}"))

    def _drop_applied_segments(self) -> None:
        segments = self._segments()
        # A segment can go once the next one starts at or before the checkpoint + 1.
        for current, following in itertools.pairwise(segments):
            if int(following.stem) - 1 <= self._applied:
                current.unlink(missing_ok=True)

    def _read_checkpoint(self) -> int:
        path = self.folder / CHECKPOINT
        try:
            text = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return 0
        if not text.isdigit():
            # Replaying everything is safe (upserts are idempotent); skipping is not.
            log.error("journal.checkpoint_unreadable", path=str(path))
            return 0
        return int(text)

    def _read_segments(self) -> tuple[list[Entry], int]:
        entries: list[Entry] = []
        last = 0
        segments = self._segments()
        for index, segment in enumerate(segments):
            data = segment.read_bytes()
            lines = data.split(b"\n")
            tail = lines.pop()  # bytes after the last newline: a torn write, if any
            if tail:
                log.warning("journal.torn_entry_dropped", segment=segment.name, size=len(tail))
                if index == len(segments) - 1:
                    with segment.open("r+b") as file:
                        file.truncate(len(data) - len(tail))
            for number, line in enumerate(lines, start=1):
                entry = _parse(line)
                if entry is None:
                    log.error("journal.entry_unreadable", segment=segment.name, line=number)
                    continue
                last = max(last, entry.seq)
                if entry.seq > self._applied:
                    entries.append(entry)
        return entries, last

    def _fsync_folder(self) -> None:
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _parse(line: bytes) -> Entry | None:
    try:
        data = orjson.loads(line)
        return Entry(seq=int(data["seq"]), record=CallRecord.from_json(data["record"]))
    except (ValueError, KeyError, TypeError):
        return None
