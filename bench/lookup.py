"""Lookup by phone number over a million call rows, with its index and without it.

Fills a fresh, migrated database (SQLite by default) with ``--rows`` calls, then times the
first page (50 calls, newest first) of ``callrec_ari.rights.lookup.find_calls`` for a few
hundred random numbers: ordinary callers, heavy callers and numbers that never called. The
baseline is the same lookups in the same run with ``ix_calls_caller_e164_started_at``
dropped (it is created again afterwards)::

    .venv/bin/python -m bench.lookup [--rows 1000000] [--samples 300] [--json]
                                     [--postgres-url postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.callrows import START, Population, fill
from bench.stats import Distribution
from callrec_ari.db.migrate import upgrade_to_head
from callrec_ari.db.models import Call
from callrec_ari.db.session import create_engine, create_session_factory
from callrec_ari.rights.lookup import find_calls

INDEX = "ix_calls_caller_e164_started_at"
REGION = "PL"
PAGE = 50
NOW = START + timedelta(days=200)  # after every generated call; holds are looked up as of now


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="bench.lookup", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="call rows (default 1e6)")
    parser.add_argument("--samples", type=int, default=300, help="timed lookups with the index")
    parser.add_argument(
        "--baseline-samples", type=int, default=60, help="timed lookups without it (slow)"
    )
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    parser.add_argument(
        "--postgres-url", help="an empty PostgreSQL database to use instead of a SQLite file"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its report."""
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="callrec-bench-lookup-"))
    url = args.postgres_url or f"sqlite+aiosqlite:///{workdir / 'calls.sqlite3'}"
    try:
        upgrade_to_head(url)
        result = asyncio.run(_measure(url, args))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result, indent=2) if args.json else _table(result))
    return 0


async def _measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)  # noqa: S311 - a reproducible sample, not a secret
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            if await connection.scalar(select(func.count()).select_from(Call)):
                raise SystemExit(f"bench.lookup: the database at {url} already holds calls.")
        people = Population.make(args.rows, rng)
        print(f"filling {args.rows} rows ...", file=sys.stderr)
        fill_seconds = await fill(engine, args.rows, people, rng)
        await _analyse(engine)
        numbers = _sample(people, rng, args.samples)
        indexed = await _time_lookups(engine, numbers)
        async with engine.begin() as connection:
            await connection.execute(text(f"DROP INDEX {INDEX}"))
        await _analyse(engine)
        try:
            baseline = await _time_lookups(engine, numbers[: args.baseline_samples])
        finally:
            async with engine.begin() as connection:
                await connection.execute(
                    text(f"CREATE INDEX {INDEX} ON calls (caller_e164, started_at)")
                )
    finally:
        await engine.dispose()
    with_index = Distribution.of(indexed["ms"])
    without = Distribution.of(baseline["ms"])
    assert with_index is not None
    assert without is not None
    return {
        "database": engine.dialect.name,
        "rows": args.rows,
        "distinct_callers": len(people.ordinary) + len(people.heavy),
        "heavy_callers": {"count": len(people.heavy), "calls_each": people.heavy_calls},
        "fill_seconds": round(fill_seconds, 1),
        "page_size": PAGE,
        "cpu_cores": os.cpu_count(),
        "indexed_ms": _rounded(with_index),
        "no_index_ms": _rounded(without),
        "calls_found_per_lookup": round(sum(indexed["found"]) / len(indexed["found"]), 1),
        "ratio_p50": round(without.p50 / with_index.p50, 1),
        "ratio_p99": round(without.p99 / with_index.p99, 1),
    }


async def _analyse(engine: AsyncEngine) -> None:
    """Fresh planner statistics, as a long-running database would have."""
    async with engine.begin() as connection:
        await connection.execute(text("ANALYZE"))


def _sample(people: Population, rng: random.Random, count: int) -> list[str]:
    """Mostly ordinary callers, some heavy ones and some who never called, in random order."""
    numbers = [rng.choice(people.ordinary) for _ in range(count * 8 // 10)]
    numbers += [rng.choice(people.heavy) for _ in range(count // 10)]
    numbers += [people.unknown(rng) for _ in range(count - len(numbers))]
    rng.shuffle(numbers)
    return numbers


async def _time_lookups(engine: AsyncEngine, numbers: list[str]) -> dict[str, list[float]]:
    """Milliseconds per lookup (a session each, as a web request would) and calls found."""
    sessions = create_session_factory(engine)
    timings: list[float] = []
    found: list[float] = []
    for warmup in numbers[:5]:
        async with sessions() as session:
            await find_calls(session, warmup, region=REGION, now=NOW, limit=PAGE)
    for number in numbers:
        began = time.perf_counter()
        async with sessions() as session:
            page = await find_calls(session, number, region=REGION, now=NOW, limit=PAGE)
        timings.append((time.perf_counter() - began) * 1000)
        found.append(len(page.calls))
    return {"ms": timings, "found": found}


def _rounded(dist: Distribution) -> dict[str, float]:
    return {
        "count": dist.count,
        "p50": round(dist.p50, 2),
        "p99": round(dist.p99, 2),
        "max": round(dist.max, 2),
    }


def _table(result: dict[str, Any]) -> str:
    with_index, without = result["indexed_ms"], result["no_index_ms"]
    heavy = result["heavy_callers"]
    return "\n".join(
        [
            f"callrec lookup-by-number benchmark ({result['database']}, "
            f"{result['cpu_cores']} CPU cores)",
            f"{result['rows']} call rows, {result['distinct_callers']} distinct callers "
            f"({heavy['count']} with {heavy['calls_each']} calls each); "
            f"filled in {result['fill_seconds']} s",
            f"first page of {result['page_size']} calls, newest first; "
            f"{result['calls_found_per_lookup']} calls found per lookup on average",
            "",
            f"{'':40}{'lookups':>9}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}",
            _row(f"with {INDEX}", with_index),
            _row("without it (baseline)", without),
            f"{'baseline / indexed':40}{'':>9}{result['ratio_p50']:>9}x{result['ratio_p99']:>9}x",
        ]
    )


def _row(label: str, dist: dict[str, float]) -> str:
    return (
        f"{label:40}{dist['count']:>9}{dist['p50']:>10.2f}{dist['p99']:>10.2f}{dist['max']:>10.2f}"
    )


if __name__ == "__main__":
    sys.exit(main())
