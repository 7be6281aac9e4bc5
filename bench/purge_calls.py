"""``bench.purge --beside-calls``: call set-up while the service purges a large backlog.

One sandbox, one ``callrec run`` process (its own purge every second), calls placed with
sipp through the callrec path as ``bench.call_setup`` places them. Two runs of the same calls,
side by side in one invocation:

1. without a purge: the backlog is empty, the purge rounds find nothing;
2. with a purge: N expired calls (WAV + ``.done`` marker each) are written into the service's
   recordings folder and database, and the calls start at once; the service's purge deletes
   them on its event loop's side (the unlinks in a worker thread) while the calls are set up.

The purge's start and end are watched from the database (rows still not purged), so the
report says how much of the call window the purge covered. Run as root::

    .venv/bin/python -m bench.purge --beside-calls [--calls 100000] [--call-count 60] [--rate 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.call_setup import BENCH_SANDBOX, LANGUAGE
from bench.prompt import PROMPT_NAME, install_bench_prompt
from bench.purge_data import _rows, write_files
from bench.runner import Bench, CallPath, RunResult
from bench.service import service_config
from callrec_ari.db.models import Call
from callrec_ari.db.session import create_engine
from callrec_ari.sandbox.service import ServiceProcess
from callrec_ari.sandbox.session import SandboxSession

_INSERT_CHUNK = 5_000
BACKLOG_PREFIX = "1700000000."  # bench.purge_data's uniqueids; never a live call's


class PurgeWatch:
    """Polls the service's SQLite file: when the backlog's first row was purged, and the last."""

    def __init__(self, database: Path, total: int) -> None:
        self.database = database
        self.total = total
        self.started: float | None = None
        self.ended: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> PurgeWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def left(self) -> int:
        """Backlog rows not purged yet."""
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=30) as db:
            (count,) = db.execute(
                "SELECT count(*) FROM calls WHERE purged_at IS NULL AND uniqueid LIKE ?",
                (BACKLOG_PREFIX + "%",),
            ).fetchone()
        return int(count)

    def _poll(self) -> None:
        while not self._stop.wait(0.5):
            left = self.left()
            now = time.monotonic()
            if self.started is None and left < self.total:
                self.started = now
            if left == 0:
                self.ended = now
                return


async def _insert_backlog(url: str, count: int) -> None:
    """The backlog's rows, due since yesterday, in one transaction (the purge sees them all
    at once)."""
    due = datetime.now(UTC) - timedelta(days=1)
    engine = create_engine(url)
    table = Call.metadata.tables[Call.__tablename__]
    try:
        async with engine.begin() as connection:
            batch: list[dict[str, Any]] = []
            for row in _rows(count):
                batch.append(row | {"delete_after": due})
                if len(batch) == _INSERT_CHUNK:
                    await connection.execute(table.insert(), batch)
                    batch = []
            if batch:
                await connection.execute(table.insert(), batch)
    finally:
        await engine.dispose()


def run_beside_calls(args: argparse.Namespace) -> dict[str, Any]:
    """Both runs; the numbers as JSON-ready data."""
    cache = Path(os.environ.get("CALLREC_SANDBOX_CACHE") or "/var/cache/callrec")
    workdir = Path(tempfile.mkdtemp(prefix="callrec-bench-purge-calls-"))
    session = SandboxSession(
        cache, settings=BENCH_SANDBOX, workdir=workdir / "sandbox", keep_recordings=False
    )
    asterisk = session.start()
    try:
        assert session.agent is not None
        prompts = workdir / "prompts"
        prompt_seconds = install_bench_prompt(
            prompts, asterisk.host_sounds_dir, language=LANGUAGE, seconds=0.5
        )
        config = service_config(
            asterisk, workdir, prompts_dir=prompts, prompt=PROMPT_NAME, language=LANGUAGE
        )
        config["lifecycle"].update(purge_interval_seconds=1, purge_batch_size=args.batch_size)
        recordings = Path(config["recording"]["service_dir"])
        database = workdir / "callrec.sqlite3"
        with ServiceProcess(config, workdir / "service") as service:
            bench = Bench(
                asterisk, session.agent, service, workdir=workdir / "sipp",
                prompt_seconds=prompt_seconds,
            )  # fmt: skip
            bench.run(CallPath.SERVICE, calls=5, rate=5, talk_ms=args.talk_ms)  # warm-up
            print(f"without a purge: {args.call_count} calls ...", file=sys.stderr, flush=True)
            quiet = bench.run(
                CallPath.SERVICE, calls=args.call_count, rate=args.rate, talk_ms=args.talk_ms
            )
            print(f"writing {args.calls} expired recordings ...", file=sys.stderr, flush=True)
            write_files(recordings, args.calls)
            asyncio.run(_insert_backlog(service.database_url, args.calls))
            with PurgeWatch(database, args.calls) as watch:
                print("with a purge: calls ...", file=sys.stderr, flush=True)
                calls_start = time.monotonic()
                busy = bench.run(
                    CallPath.SERVICE, calls=args.call_count, rate=args.rate, talk_ms=args.talk_ms
                )
                calls_end = calls_start + busy.wall_seconds
                deadline = time.monotonic() + 600
                while watch.ended is None and time.monotonic() < deadline:
                    time.sleep(0.2)
            left = watch.left()
        files_left = sum(
            name.startswith(BACKLOG_PREFIX) for _, _, names in os.walk(recordings) for name in names
        )
    finally:
        session.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return _result(
        args, quiet, busy, watch=watch, window=(calls_start, calls_end), left=(left, files_left)
    )


def _result(
    args: argparse.Namespace,
    quiet: RunResult,
    busy: RunResult,
    *,
    watch: PurgeWatch,
    window: tuple[float, float],
    left: tuple[int, int],
) -> dict[str, Any]:
    calls_start, calls_end = window
    rows_left, files_left = left
    purge_start = watch.started or calls_end
    purge_end = watch.ended or calls_end
    overlap = max(0.0, min(purge_end, calls_end) - max(purge_start, calls_start))
    return {
        "backlog_calls": args.calls,
        "batch_size": args.batch_size,
        "calls_per_run": args.call_count,
        "rate": args.rate,
        "cpu_cores": os.cpu_count(),
        "loadavg_after": os.getloadavg(),
        "purge_seconds": (purge_end - purge_start) if watch.ended else None,
        "purge_started_after_calls_seconds": purge_start - calls_start,
        "call_window_seconds": calls_end - calls_start,
        "call_window_covered_by_purge": overlap / max(calls_end - calls_start, 1e-9),
        "rows_left": rows_left,
        "files_left": files_left,
        "runs": {"without_purge": _run_json(quiet), "with_purge": _run_json(busy)},
    }


def _run_json(run: RunResult) -> dict[str, Any]:
    setup = run.setup_ms
    return {
        "placed": run.placed,
        "connected": run.connected,
        "recorded": run.recorded,
        "ok": run.ok,
        "setup_ms": None if setup is None else {
            "p50": setup.p50, "p90": setup.p90, "p99": setup.p99, "max": setup.max,
        },
        "callrec_cpu_ms_per_call": run.cpu_ms_per_call.get("callrec"),
    }  # fmt: skip


def table(result: dict[str, Any]) -> str:
    """The two runs side by side."""
    quiet, busy = result["runs"]["without_purge"], result["runs"]["with_purge"]
    lines = [
        f"call set-up beside the service's purge of {result['backlog_calls']} expired "
        f"recordings (batches of {result['batch_size']}); {result['calls_per_run']} calls per "
        f"run at {result['rate']:g}/s; {result['cpu_cores']} CPU cores, load average "
        f"{result['loadavg_after'][0]:.1f} at the end",
        f"purge took {_seconds(result['purge_seconds'])}, started "
        f"{result['purge_started_after_calls_seconds']:.1f} s after the calls began; it covered "
        f"{result['call_window_covered_by_purge']:.0%} of the "
        f"{result['call_window_seconds']:.1f} s call window; left behind: "
        f"{result['rows_left']} rows, {result['files_left']} files",
        "",
        f"{'setup delay (ms)':28}{'no purge':>12}{'during purge':>14}",
    ]
    for key in ("p50", "p90", "p99", "max"):
        lines.append(f"  {key:26}{_ms(quiet['setup_ms'], key):>12}{_ms(busy['setup_ms'], key):>14}")
    lines.append(
        f"  {'calls connected/recorded':26}{quiet['connected']:>6}/{quiet['recorded']:<5}"
        f"{busy['connected']:>8}/{busy['recorded']:<5}"
    )
    return "\n".join(lines)


def _ms(setup: dict[str, float] | None, key: str) -> str:
    return "-" if setup is None else f"{setup[key]:.1f}"


def _seconds(value: float | None) -> str:
    return "more than the wait (unfinished)" if value is None else f"{value:.1f} s"
