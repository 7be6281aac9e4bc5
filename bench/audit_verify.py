"""``callrec audit verify`` over a million audit entries: time, rate and memory.

Fills a fresh database (SQLite by default) with ``--entries`` chained entries, written in
batches the way ``callrec_ari.audit.trail.append`` would chain them, before migration 0004's
triggers exist (they let the head move one entry at a time only), then migrates to the
newest schema and runs
``callrec_ari.audit.verify.verify_chain`` ``--runs`` times. A last run under ``tracemalloc``
gives the peak Python memory of the check, which should not grow with the trail (entries are
streamed in batches of ``verify.BATCH``)::

    .venv/bin/python -m bench.audit_verify [--entries 1000000] [--runs 3] [--json]
                                           [--postgres-url postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from callrec_ari.audit.chain import GENESIS, Link, canonical_json, link_hash
from callrec_ari.audit.trail import HEAD_ID
from callrec_ari.audit.verify import BATCH, verify_chain
from callrec_ari.db.migrate import alembic_config, upgrade_to_head
from callrec_ari.db.models import AuditEntry, AuditHead
from callrec_ari.db.session import create_engine, create_session_factory

START = datetime(2026, 1, 1, tzinfo=UTC)
FILL_BATCH = 10_000
BEFORE_GUARDS = "0003"
ACTIONS = ("login", "search", "play", "download", "hold.place", "audit.read")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="bench.audit_verify", description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="entries (default 1e6)")
    parser.add_argument("--runs", type=int, default=3, help="timed verifications")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    parser.add_argument(
        "--postgres-url", help="an empty PostgreSQL database to use instead of a SQLite file"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its report."""
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="callrec-bench-audit-"))
    url = args.postgres_url or f"sqlite+aiosqlite:///{workdir / 'audit.sqlite3'}"
    try:
        command.upgrade(alembic_config(url), BEFORE_GUARDS)
        fill_seconds = asyncio.run(_filled(url, args.entries))
        upgrade_to_head(url)
        result = {**asyncio.run(_measure(url, args)), "fill_seconds": round(fill_seconds, 1)}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result, indent=2) if args.json else _table(result))
    return 0


async def _filled(url: str, entries: int) -> float:
    """Seconds taken to fill the trail."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            if await connection.scalar(select(func.count()).select_from(AuditEntry)):
                raise SystemExit(f"bench.audit_verify: the database at {url} has entries.")
        print(f"filling {entries} entries ...", file=sys.stderr)
        began = time.perf_counter()
        await _fill(engine, entries)
        return time.perf_counter() - began
    finally:
        await engine.dispose()


async def _measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        sessions = create_session_factory(engine)
        seconds: list[float] = []
        for _ in range(args.runs):
            began = time.perf_counter()
            async with sessions() as session:
                verdict = await verify_chain(session)
            seconds.append(time.perf_counter() - began)
            if not verdict.intact or verdict.entries != args.entries:
                raise SystemExit(f"bench.audit_verify: unexpected verdict {verdict}")
        tracemalloc.start()
        try:
            async with sessions() as session:
                await verify_chain(session)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        await engine.dispose()
    best = min(seconds)
    return {
        "database": engine.dialect.name,
        "entries": args.entries,
        "batch": BATCH,
        "cpu_cores": os.cpu_count(),
        "verify_seconds": [round(s, 2) for s in seconds],
        "entries_per_second": round(args.entries / best),
        "peak_python_mib": round(peak / 2**20, 1),
    }


async def _fill(engine: AsyncEngine, count: int) -> None:
    """``count`` entries chained from genesis, a minute apart; then the head at the last."""
    prev_hash, rows = GENESIS, []
    async with engine.begin() as connection:
        for seq in range(1, count + 1):
            link = Link(
                seq=seq,
                at=START + timedelta(minutes=seq),
                actor=f"user{seq % 40}",
                action=ACTIONS[seq % len(ACTIONS)],
                target=f"17640{seq:08d}.{seq % 97}",
                detail=canonical_json({"n": seq, "reason": "quality check"}),
                client=f"192.0.2.{seq % 250}",
                prev_hash=prev_hash,
            )
            prev_hash = link_hash(link)
            rows.append({**vars(link), "hash": prev_hash})
            if len(rows) == FILL_BATCH:
                await connection.execute(insert(AuditEntry), rows)
                rows = []
        if rows:
            await connection.execute(insert(AuditEntry), rows)
        await connection.execute(
            update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=count, hash=prev_hash)
        )


def _table(result: dict[str, Any]) -> str:
    runs = ", ".join(f"{s} s" for s in result["verify_seconds"])
    return "\n".join(
        [
            f"callrec audit verify benchmark ({result['database']}, "
            f"{result['cpu_cores']} CPU cores)",
            f"{result['entries']} entries, filled in {result['fill_seconds']} s",
            f"verify runs: {runs}",
            f"best: {result['entries_per_second']} entries/s",
            f"peak Python memory during one run: {result['peak_python_mib']} MiB "
            f"(batches of {result['batch']})",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
