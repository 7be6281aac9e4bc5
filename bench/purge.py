"""The retention purge on a large backlog: callrec's ``run_purge`` beside the naive way.

Both remove N expired calls (a 300-byte WAV and its ``.done`` marker each, over a year of day
folders) from a fresh SQLite database, and with ``--postgres-url`` from PostgreSQL too.
callrec walks the due rows in keyset batches, checks legal holds, refuses paths outside the
folder and commits batch by batch. The baseline is the fastest naive way: read every due path
at once, unlink the files in a loop, anonymise every row with one ``UPDATE``, one commit.

Each purge runs in a child process of its own; the time is the purge alone (not start-up),
the peak memory is the child's maximum resident set (``ru_maxrss`` from ``wait4``), shown
beside its resident set just before the purge started. callrec is
also run on N/10 calls, to show its memory does not grow with the backlog. Run as::

    .venv/bin/python -m bench.purge [--calls 100000] [--batch-size 500] [--json [FILE]]
        [--postgres-url postgresql+asyncpg://user@host/spare_db]   # its call tables are emptied

With ``--beside-calls`` (root, the Asterisk sandbox) it measures instead what a purge of N
files in the running service does to call set-up: ``bench/purge_calls.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import and_, select, update

from bench import purge_calls
from bench.purge_data import NOW, Backlog, leftovers, prepare
from callrec_ari import log as logging_setup
from callrec_ari.config import LogFormat, LogSettings, RetentionPolicy
from callrec_ari.db.migrate import upgrade_to_head
from callrec_ari.db.models import Call
from callrec_ari.db.session import create_engine, open_sessions
from callrec_ari.lifecycle.purge import run_purge

PROJECT = Path(__file__).resolve().parents[1]
MODES = ("callrec", "baseline")


class BrokenBenchmarkError(RuntimeError):
    """A purge left rows or files behind: its time would not measure the whole job."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="bench.purge", description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=100_000, help="expired calls (100000)")
    parser.add_argument("--batch-size", type=int, default=500, help="callrec's batch (500)")
    parser.add_argument(
        "--json", nargs="?", const="-", metavar="FILE", help="print JSON (or write it to FILE)"
    )
    parser.add_argument("--postgres-url", help="also on this PostgreSQL database (emptied!)")
    parser.add_argument(
        "--beside-calls",
        action="store_true",
        help="call set-up p50/p99 with and without the service purging N files (root)",
    )
    parser.add_argument("--call-count", type=int, default=60, help="calls per run (60)")
    parser.add_argument("--rate", type=float, default=5.0, help="calls per second (5)")
    parser.add_argument("--talk-ms", type=int, default=1000, help="talk time per call (1000)")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with --child, one measured purge)."""
    args = parse_args(argv)
    if args.child:
        return _child(args)
    if args.beside_calls:
        return _beside_calls(args)
    workdir = Path(tempfile.mkdtemp(prefix="callrec-bench-purge-"))
    results: dict[str, Any] = {"calls": args.calls, "batch_size": args.batch_size, "runs": {}}
    try:
        databases = {"sqlite": None}
        if args.postgres_url:
            databases["postgresql"] = args.postgres_url
        for name, url in databases.items():
            results["runs"][name] = _measure_database(name, url, args, workdir)
    except BrokenBenchmarkError as exc:
        print(f"BROKEN BENCHMARK: {exc}", file=sys.stderr)
        return 3
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json == "-":
        print(json.dumps(results, indent=2))
    else:
        print(_table(results))
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


def _beside_calls(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        print("bench.purge --beside-calls needs root (the sandbox uses chroot).", file=sys.stderr)
        return 2
    logging_setup.configure(LogSettings(format=LogFormat.CONSOLE, level="warning"))
    result = purge_calls.run_beside_calls(args)
    if args.json == "-":
        print(json.dumps(result, indent=2))
    else:
        print(purge_calls.table(result))
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    runs = result["runs"].values()
    return 0 if all(run["ok"] for run in runs) and not result["rows_left"] else 1


def _measure_database(
    name: str, url: str | None, args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    runs: dict[str, Any] = {}
    plan = [("callrec", args.calls), ("baseline", args.calls)]
    if args.calls >= 10:
        plan.append(("callrec_tenth", args.calls // 10))
    for label, count in plan:
        run_dir = workdir / f"{name}-{label}"
        run_dir.mkdir()
        run_url = url or f"sqlite+aiosqlite:///{run_dir / 'callrec.sqlite3'}"
        print(f"{name} {label}: {count} calls: preparing...", file=sys.stderr, flush=True)
        upgrade_to_head(run_url)
        backlog = prepare(run_url, run_dir / "recordings", count)
        mode = "callrec" if label.startswith("callrec") else "baseline"
        runs[label] = _run_child(mode, backlog, args.batch_size, run_dir)
        left_rows, left_files = leftovers(backlog)
        if left_rows or left_files:
            raise BrokenBenchmarkError(
                f"{name} {label} left {left_rows} rows and {left_files} files behind."
            )
        print(f"{name} {label}: {runs[label]['seconds']:.2f} s", file=sys.stderr, flush=True)
        shutil.rmtree(run_dir, ignore_errors=True)
    return runs


def _run_child(mode: str, backlog: Backlog, batch_size: int, run_dir: Path) -> dict[str, Any]:
    out = run_dir / "result.json"
    command = [
        sys.executable, "-m", "bench.purge", "--child", mode, "--url", backlog.url,
        "--dir", str(backlog.recordings), "--out", str(out), "--batch-size", str(batch_size),
    ]  # fmt: skip
    result = run_purge_child(command, out, f"The {mode} purge")
    result["calls"] = backlog.calls
    return result


def run_purge_child(command: list[str], out: Path, what: str) -> dict[str, Any]:
    """Run a purge in a child process; the JSON it wrote to ``out``, with its peak resident
    set (``peak_rss_mib``, from ``wait4``)."""
    process = subprocess.Popen(command, cwd=PROJECT)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise BrokenBenchmarkError(f"{what} exited with status {process.returncode}.")
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    result["peak_rss_mib"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return result


def _child(args: argparse.Namespace) -> int:
    logging_setup.configure(LogSettings(format=LogFormat.CONSOLE, level="warning"))
    before = current_rss_kib()
    start = time.perf_counter()
    if args.child == "callrec":
        done = asyncio.run(_callrec(args.url, args.dir, args.batch_size))
    else:
        done = asyncio.run(_baseline(args.url, args.dir))
    seconds = time.perf_counter() - start
    result = {"seconds": seconds, "rss_before_mib": before / 1024, **done}
    args.out.write_text(json.dumps(result), encoding="utf-8")
    return 0


def current_rss_kib() -> int:
    """Resident memory now (not the high-water mark, which start-up may have set higher)."""
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def _callrec(url: str, recordings: Path, batch_size: int) -> dict[str, Any]:
    policies = {"days-7": RetentionPolicy(name="days-7", days=7)}
    async with open_sessions(url) as sessions:
        report = await run_purge(
            sessions, recordings_dir=recordings, retention=policies, now=NOW, batch_size=batch_size
        )
    return {"reduced": report.reduced, "files_deleted": report.files_deleted}


async def _baseline(url: str, recordings: Path) -> dict[str, Any]:
    """Every due path read at once, files unlinked in a loop, one UPDATE, one commit."""
    engine = create_engine(url)
    due = and_(Call.purged_at.is_(None), Call.delete_after <= NOW)
    root = str(recordings)
    deleted = 0
    try:
        async with engine.begin() as connection:
            paths = (await connection.scalars(select(Call.recording_path).where(due))).all()
            for relative in paths:
                if relative is None:
                    continue
                wav = os.path.join(root, relative)  # noqa: PTH118 - the plainest, fastest way
                for path in (wav, wav + ".done"):
                    try:
                        os.unlink(path)  # noqa: PTH108
                    except FileNotFoundError:
                        continue
                deleted += 1
            result = await connection.execute(
                update(Call)
                .where(due)
                .values(
                    caller_number=None, caller_e164=None, agent=None, recording_path=None,
                    size_bytes=None, sha256=None, recording_status="deleted", purged_at=NOW,
                    purge_reason="retention", updated_at=NOW,
                )
            )  # fmt: skip
    finally:
        await engine.dispose()
    return {"reduced": result.rowcount, "files_deleted": deleted}


def _table(results: dict[str, Any]) -> str:
    lines = [
        f"callrec purge benchmark: {results['calls']} expired calls (300-byte WAV + .done "
        f"marker each, over 365 day folders); callrec batches of {results['batch_size']}",
        f"machine: {os.cpu_count()} CPU cores; each purge in its own child process",
        "",
    ]
    for database, runs in results["runs"].items():
        ours, base = runs["callrec"], runs["baseline"]
        lines += [
            f"{database:30}{'callrec':>12}{'baseline':>12}{'ratio':>8}",
            _row("purge time (s)", ours["seconds"], base["seconds"]),
            _row(
                "calls per second", ours["calls"] / ours["seconds"], base["calls"] / base["seconds"]
            ),
            _row("peak RSS (MiB)", ours["peak_rss_mib"], base["peak_rss_mib"]),
            _row("RSS before the purge (MiB)", ours["rss_before_mib"], base["rss_before_mib"]),
            _row(
                "peak - before (MiB)",
                ours["peak_rss_mib"] - ours["rss_before_mib"],
                base["peak_rss_mib"] - base["rss_before_mib"],
            ),
        ]
        if "callrec_tenth" in runs:
            tenth = runs["callrec_tenth"]
            lines.append(
                f"  callrec on {tenth['calls']} calls: {tenth['seconds']:.2f} s, peak RSS "
                f"{tenth['peak_rss_mib']:.1f} MiB "
                f"(+{tenth['peak_rss_mib'] - tenth['rss_before_mib']:.1f} MiB during the purge)"
            )
        lines.append("")
    return "\n".join(lines)


def _row(label: str, ours: float, base: float) -> str:
    ratio = f"{ours / base:.2f}x" if base else "-"
    return f"  {label:28}{ours:12.1f}{base:12.1f}{ratio:>8}"


if __name__ == "__main__":
    sys.exit(main())
