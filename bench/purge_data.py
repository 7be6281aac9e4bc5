"""The purge benchmark's data: N expired calls with small WAVs and markers, filled in quickly.

Rows go in with one Core ``INSERT`` per few thousand (no ORM); files are written with plain
``open``. Calls are spread over a year of day folders, as a real backlog would be.
"""

from __future__ import annotations

import asyncio
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from callrec_ari.db.models import Call
from callrec_ari.db.session import create_engine

NOW = datetime(2027, 12, 1, tzinfo=UTC)
FIRST_START = datetime(2026, 1, 1, tzinfo=UTC)
SPREAD = timedelta(days=365)
POLICY_DAYS = 7
_INSERT_CHUNK = 5_000
_AUDIO = b"\x10\x00" * 128  # 16 ms of 8 kHz 16-bit mono


def small_wav() -> bytes:
    """A valid 8 kHz mono WAV of 256 bytes of audio (300 bytes in all)."""
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, 8000, 16000, 2, 16)
    data = struct.pack("<4sI", b"data", len(_AUDIO)) + _AUDIO
    return struct.pack("<4sI4s", b"RIFF", 4 + len(fmt) + len(data), b"WAVE") + fmt + data


@dataclass(frozen=True, kw_only=True)
class Backlog:
    """Where the calls and their files are."""

    url: str
    recordings: Path
    calls: int


def _rows(count: int) -> Iterator[dict[str, Any]]:
    step = SPREAD / count
    for n in range(count):
        start = FIRST_START + step * n
        uniqueid = f"1700000000.{n}"
        yield {
            "uniqueid": uniqueid,
            "linkedid": uniqueid,
            "direction": "inbound",
            "caller_number": f"4822{n:07d}",
            "caller_e164": f"+4822{n:07d}",
            "dialled_number": "5551000",
            "agent": "agent100",
            "languages": "pl",
            "consent": "given",
            "started_at": start,
            "answered_at": start + timedelta(seconds=10),
            "ended_at": start + timedelta(seconds=70),
            "recording_path": f"{start:%Y/%m/%d}/{uniqueid}.wav",
            "recording_status": "complete",
            "duration_seconds": 60.0,
            "size_bytes": 300,
            "sha256": "ab" * 32,
            "retention_policy": "days-7",
            "delete_after": start + timedelta(days=POLICY_DAYS),
            "created_at": start,
            "updated_at": start,
        }


def write_files(recordings: Path, count: int) -> None:
    """Every call's WAV and its ``.done`` marker."""
    wav = small_wav()
    made: set[str] = set()
    for row in _rows(count):
        path = recordings / row["recording_path"]
        folder = str(path.parent)
        if folder not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(folder)
        path.write_bytes(wav)
        with open(f"{path}.done", "wb"):  # noqa: PTH123 - the plainest, fastest empty file
            pass


async def insert_rows(url: str, count: int) -> None:
    """Empty the lifecycle tables, then insert ``count`` expired calls."""
    engine = create_engine(url)
    table = Call.metadata.tables[Call.__tablename__]
    try:
        async with engine.begin() as connection:
            for name in ("legal_hold_calls", "legal_holds", "call_corrections", "calls"):
                await connection.execute(text(f"DELETE FROM {name}"))  # noqa: S608 - fixed names
            batch: list[dict[str, Any]] = []
            for row in _rows(count):
                batch.append(row)
                if len(batch) == _INSERT_CHUNK:
                    await connection.execute(table.insert(), batch)
                    batch = []
            if batch:
                await connection.execute(table.insert(), batch)
        if engine.dialect.name == "postgresql":
            async with engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.execute(text("VACUUM ANALYZE calls"))
    finally:
        await engine.dispose()


def prepare(url: str, recordings: Path, count: int) -> Backlog:
    """Rows and files for ``count`` expired calls."""
    asyncio.run(insert_rows(url, count))
    write_files(recordings, count)
    return Backlog(url=url, recordings=recordings, calls=count)


async def _left(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            query = select(func.count()).select_from(Call).where(Call.purged_at.is_(None))
            return int(await connection.scalar(query) or 0)
    finally:
        await engine.dispose()


def leftovers(backlog: Backlog) -> tuple[int, int]:
    """Rows not purged and files still in the folder, after a run (both must be 0)."""
    files = sum(len(names) for _, _, names in os.walk(backlog.recordings))
    return asyncio.run(_left(backlog.url)), files
