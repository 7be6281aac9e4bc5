"""Staff call search over a million rows: keyset pages beside OFFSET pages.

Fills a fresh, migrated database (SQLite by default) with ``--rows`` calls of 40 agents over
six months, a fifth of them not recorded for want of consent, then times
``callrec_ari.calls.search.search_calls`` (a session and transaction each, the audit entry
committed, as a web request does) for the first page and for a deep page, the cursor after
``--depth`` pages, with five filters: none, a heavy caller's number, one agent, one month, one
consent outcome. The baseline is a naive search in the same run: the same filters and audit
entry, but ``OFFSET`` paging and one ``OR`` for the number's spellings. Every deep page is
checked to hold the same calls both ways::

    .venv/bin/python -m bench.search [--rows 1000000] [--depth 100] [--repeat 11] [--json]
                                     [--postgres | --postgres-url postgresql+asyncpg://...]

``--postgres`` starts a throwaway server from Debian's PostgreSQL binaries, as the tests do.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, insert, select, text, true
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.callrows import BATCH, START, Population, rows
from bench.stats import Distribution
from callrec_ari.access import Actor, Role
from callrec_ari.audit import trail
from callrec_ari.calls.search import SearchFilters, search_calls
from callrec_ari.db.migrate import upgrade_to_head
from callrec_ari.db.models import Call
from callrec_ari.db.session import create_engine, create_session_factory
from callrec_ari.lifecycle.held import held_call_ids
from callrec_ari.numbers import parse_e164
from callrec_ari.records import Consent
from callrec_ari.rights.subject import of_number

REGION = "PL"
PAGE = 50
NOW = START + timedelta(days=200)  # after every generated call
SUPERVISOR = Actor.of("bench-supervisor", Role.SUPERVISOR)
# Consent outcomes and their shares; only "given" calls are recorded.
CONSENTS = {"given": 80, "abandoned": 9, "declined": 6, "opted_out": 3, "interrupted": 2}
Sessions = async_sessionmaker[AsyncSession]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="bench.search", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="call rows (default 1e6)")
    parser.add_argument("--depth", type=int, default=100, help="pages before the deep page")
    parser.add_argument("--repeat", type=int, default=11, help="timed runs of each query")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--postgres-url", help="an empty PostgreSQL database instead of SQLite")
    where.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its report."""
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="callrec-bench-search-"))
    try:
        with _database(args, workdir) as url:
            upgrade_to_head(url)
            result = asyncio.run(_measure(url, args))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result, indent=2) if args.json else _table(result))
    return 0


@contextlib.contextmanager
def _database(args: argparse.Namespace, workdir: Path) -> Iterator[str]:
    if args.postgres_url:
        yield args.postgres_url
    elif args.postgres:
        # The tests' helper: a private cluster on a free port, removed afterwards.
        from tests.support.postgres import PostgresServer  # noqa: PLC0415 - only if asked

        with PostgresServer() as server:
            yield server.create_database("bench_search")
    else:
        yield f"sqlite+aiosqlite:///{workdir / 'calls.sqlite3'}"


def _filters(people: Population) -> dict[str, SearchFilters]:
    month = START + timedelta(days=60)
    return {
        "no filter": SearchFilters(),
        "number (heavy caller)": SearchFilters(number=people.heavy[0]),
        "agent": SearchFilters(agent="agent117"),
        "time range (30 days)": SearchFilters(since=month, until=month + timedelta(days=30)),
        "consent (declined, 6 %)": SearchFilters(consent=Consent.DECLINED),
    }


async def _measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)  # noqa: S311 - a reproducible sample, not a secret
    engine = create_engine(url)
    try:
        people = Population.make(args.rows, rng)
        print(f"filling {args.rows} rows ...", file=sys.stderr)
        fill_seconds = await _fill(engine, args.rows, people, rng)
        await _analyse(engine)
        sessions = create_session_factory(engine)
        queries = {}
        for name, filters in _filters(people).items():
            print(f"timing {name} ...", file=sys.stderr)
            queries[name] = await _query(sessions, filters, args)
    finally:
        await engine.dispose()
    return {
        "database": engine.dialect.name,
        "rows": args.rows,
        "fill_seconds": round(fill_seconds, 1),
        "page_size": PAGE,
        "repeat": args.repeat,
        "cpu_cores": os.cpu_count(),
        "queries": queries,
    }


async def _query(
    sessions: Sessions, filters: SearchFilters, args: argparse.Namespace
) -> dict[str, Any]:
    cursor, depth = await _walk(sessions, filters, args.depth)
    timings: dict[str, float] = {}
    timings["keyset_first"], timings["offset_first"] = await _time(
        lambda: _keyset(sessions, filters, None), lambda: _offset(sessions, filters, 0), args.repeat
    )
    timings["keyset_deep"], timings["offset_deep"] = await _time(
        lambda: _keyset(sessions, filters, cursor),
        lambda: _offset(sessions, filters, depth * PAGE),
        args.repeat,
    )
    if await _keyset(sessions, filters, cursor) != await _offset(sessions, filters, depth * PAGE):
        raise SystemExit("bench.search: keyset and OFFSET disagree on the deep page.")
    return {
        "deep_page": depth + 1,
        **{key: round(value, 2) for key, value in timings.items()},
        "ratio_first": round(timings["offset_first"] / timings["keyset_first"], 1),
        "ratio_deep": round(timings["offset_deep"] / timings["keyset_deep"], 1),
    }


async def _walk(sessions: Sessions, filters: SearchFilters, depth: int) -> tuple[str | None, int]:
    """The cursor after ``depth`` pages (fewer if the results end sooner), and the pages read."""
    cursor: str | None = None
    for done in range(depth):
        async with sessions() as session, session.begin():
            page = await search_calls(
                session, actor=SUPERVISOR, filters=filters, region=REGION, page_size=PAGE,
                cursor=cursor, now=NOW, client=None,
            )  # fmt: skip
        if page.next_cursor is None:
            return cursor, done
        cursor = page.next_cursor
    return cursor, depth


async def _keyset(sessions: Sessions, filters: SearchFilters, cursor: str | None) -> list[str]:
    """callrec's search: one page and its audit entry, committed."""
    async with sessions() as session, session.begin():
        page = await search_calls(
            session, actor=SUPERVISOR, filters=filters, region=REGION, page_size=PAGE,
            cursor=cursor, now=NOW, client=None,
        )  # fmt: skip
    return [call.uniqueid for call in page.calls]


async def _offset(sessions: Sessions, filters: SearchFilters, offset: int) -> list[str]:
    """The naive search: the same rows and audit entry, with OFFSET and one OR for numbers."""
    conditions: list[ColumnElement[bool]] = [true()]
    if filters.since is not None:
        conditions.append(Call.started_at >= filters.since)
    if filters.until is not None:
        conditions.append(Call.started_at < filters.until)
    if filters.agent is not None:
        conditions.append(Call.agent == filters.agent)
    if filters.consent is not None:
        conditions.append(Call.consent == filters.consent.value)
    if filters.number is not None:
        conditions.append(of_number(parse_e164(filters.number, REGION), REGION))
    async with sessions() as session, session.begin():
        query = (
            select(Call)
            .where(*conditions)
            .order_by(Call.started_at.desc(), Call.id.desc())
            .offset(offset)
            .limit(PAGE + 1)
        )
        calls = list(await session.scalars(query))[:PAGE]
        await held_call_ids(session, [call.id for call in calls], NOW)
        await trail.append(
            session, at=NOW, actor=SUPERVISOR.name, action="search",
            detail={"results": len(calls)},
        )  # fmt: skip
    return [call.uniqueid for call in calls]


async def _time(
    keyset: Callable[[], Awaitable[object]], offset: Callable[[], Awaitable[object]], repeat: int
) -> tuple[float, float]:
    """The median milliseconds of ``repeat`` runs of each, after one to warm the caches.

    The two alternate, so that a burst of load from elsewhere on the machine falls on both.
    """
    timings: tuple[list[float], list[float]] = ([], [])
    for attempt in range(repeat + 1):
        for run, sample in ((keyset, timings[0]), (offset, timings[1])):
            began = time.perf_counter()
            await run()
            if attempt:
                sample.append((time.perf_counter() - began) * 1000)
    medians = [Distribution.of(sample) for sample in timings]
    assert medians[0] is not None
    assert medians[1] is not None
    return medians[0].p50, medians[1].p50


async def _fill(engine: AsyncEngine, count: int, people: Population, rng: random.Random) -> float:
    """``bench.callrows`` rows with varied consent; the seconds the inserts took."""
    began = time.perf_counter()
    outcomes, weights = list(CONSENTS), list(CONSENTS.values())
    statement = insert(Call.__table__)
    batch: list[dict[str, Any]] = []
    async with engine.begin() as connection:
        for row in rows(count, people, rng):
            consent = rng.choices(outcomes, weights)[0]
            if consent != "given":
                row |= {
                    "consent": consent,
                    "recording_path": None,
                    "recording_status": "none",
                    "duration_seconds": None,
                    "size_bytes": None,
                    "sha256": None,
                }
                if consent == "abandoned":  # hung up during the announcement: no agent
                    row |= {"agent": None, "answered_at": None}
            batch.append(row)
            if len(batch) == BATCH:
                await connection.execute(statement, batch)
                batch = []
        if batch:
            await connection.execute(statement, batch)
    return time.perf_counter() - began


async def _analyse(engine: AsyncEngine) -> None:
    """Fresh planner statistics, as a long-running database would have."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE calls"))
    else:
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))


def _table(result: dict[str, Any]) -> str:
    lines = [
        f"callrec call search benchmark ({result['database']}, {result['cpu_cores']} CPU cores)",
        f"{result['rows']} call rows, filled in {result['fill_seconds']} s; pages of "
        f"{result['page_size']}, newest first; median of {result['repeat']} runs, each a "
        "committed transaction with its audit entry",
        "",
        f"{'filter':26}{'deep':>5}{'first page ms':>28}{'deep page ms':>28}",
        f"{'':26}{'page':>5}{'keyset':>9}{'OFFSET':>9}{'ratio':>10}"
        f"{'keyset':>9}{'OFFSET':>9}{'ratio':>10}",
    ]
    for name, q in result["queries"].items():
        lines.append(
            f"{name:26}{q['deep_page']:>5}"
            f"{q['keyset_first']:>9.2f}{q['offset_first']:>9.2f}{q['ratio_first']:>9.1f}x"
            f"{q['keyset_deep']:>9.2f}{q['offset_deep']:>9.2f}{q['ratio_deep']:>9.1f}x"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
