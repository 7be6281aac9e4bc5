"""A million plausible call rows, written fast with bulk Core inserts.

Callers are Polish mobile numbers. Most call a few times; a few (switchboards, regulars) call
thousands of times, which is the worst case for "newest first" pages. A small share of rows
is stored the old way, with only ``caller_number`` (``0048…``), as rows written before
numbers were normalised, so the lookup's fallback is measured too.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from callrec_ari.db.models import Call

START = datetime(2026, 5, 1, tzinfo=UTC)
SPAN_SECONDS = 183 * 24 * 3600  # six months of calls
BATCH = 20_000


@dataclass(frozen=True, kw_only=True)
class Population:
    """Who calls: ordinary callers and a few heavy ones, as E.164 numbers."""

    ordinary: list[str]
    heavy: list[str]
    heavy_calls: int  # calls per heavy caller

    @classmethod
    def make(cls, rows: int, rng: random.Random) -> Population:
        """About one distinct caller per five rows, and five callers with 0.5 % of rows each."""
        distinct = max(10, rows // 5)
        picks = rng.sample(range(10_000_000), distinct + 5)
        numbers = [f"+4860{n:07d}" for n in picks]
        return cls(ordinary=numbers[5:], heavy=numbers[:5], heavy_calls=max(1, rows // 200))

    def unknown(self, rng: random.Random) -> str:
        """A valid number that never called (the numbers of the population are 60…)."""
        return f"+4869{rng.randrange(10_000_000):07d}"


def rows(count: int, people: Population, rng: random.Random) -> Iterator[dict[str, Any]]:
    """``count`` rows of ``calls``: each heavy caller's share first, then ordinary callers."""
    callers = (n for n in people.heavy for _ in range(people.heavy_calls))
    for index in range(count):
        number = next(callers, None) or rng.choice(people.ordinary)
        started = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
        legacy = rng.random() < 0.02
        uniqueid = f"{int(started.timestamp())}.{index}"
        yield {
            "uniqueid": uniqueid,
            "linkedid": uniqueid,
            "direction": "inbound",
            "caller_number": f"00{number[1:]}" if legacy else number[1:],
            "caller_e164": None if legacy else number,
            "dialled_number": "5551000",
            "agent": f"agent{rng.randrange(100, 140)}",
            "languages": "pl",
            "consent": "given",
            "started_at": started,
            "answered_at": started + timedelta(seconds=15),
            "ended_at": started + timedelta(seconds=200),
            "recording_path": f"{started:%Y/%m/%d}/{uniqueid}.wav",
            "recording_status": "complete",
            "duration_seconds": 185.0,
            "size_bytes": 2_960_044,
            "sha256": "ab" * 32,
            "retention_policy": "months-6",
            "delete_after": started + timedelta(days=183),
            "created_at": started,
            "updated_at": started,
        }


async def fill(engine: AsyncEngine, count: int, people: Population, rng: random.Random) -> float:
    """Insert ``count`` rows in batches; the seconds it took."""
    began = time.perf_counter()
    statement = insert(Call.__table__)
    batch: list[dict[str, Any]] = []
    async with engine.begin() as connection:
        for row in rows(count, people, rng):
            batch.append(row)
            if len(batch) == BATCH:
                await connection.execute(statement, batch)
                batch = []
        if batch:
            await connection.execute(statement, batch)
    return time.perf_counter() - began
