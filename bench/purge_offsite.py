"""The retention purge of N recordings that only the object store holds, through ``run_purge``.

Issue 14 §5's "purge of 10 000 recordings in the object store", measured through callrec's
own job rather than a bare batch delete. Each run has a fresh SQLite database migrated to
head (and with ``--postgres-url`` a PostgreSQL one too) holding N expired calls
(``bench/purge_data.py``: consent given, recording complete, past their 7-day policy, over
a year of day folders), each with a wrapped data key in ``recording_keys`` as the sealer
stores it, and its three sealed objects (mix and both legs, ``<path>.enc``) in a SeaweedFS
bucket; the recordings folder and the outbox are empty, as after uploads. Filling is not
timed.

The purge runs in a child process of its own, as ``callrec purge`` would: the store built
from ``[storage]`` settings by ``open_store``, an ``Offsite`` with its outbox, and
``run_purge`` with the service's batch of 500. Its time is the purge alone; the S3 requests
it made are counted per operation with a ``before-send`` hook on the client (retries
included); the peak resident set is the child's ``ru_maxrss``. Afterwards nothing may be
left: no object under the run's prefix, no row not reduced, no key row; otherwise
``BrokenBenchmarkError``. The baseline, in the same run, is ``S3Store.delete_many`` of the
same 3N keys (filled again), the fastest way to empty the store without any bookkeeping.

Run as (``bench.storage`` runs it too, after its uploads)::

    .venv/bin/python -m bench.purge_offsite [--recordings 10000] [--batch-size 500]
        [--postgres-url postgresql+asyncpg://user@host/spare_db] [--json]   # its calls are emptied
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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from aiobotocore.session import AioSession
from sqlalchemy import delete, func, select

from bench.purge import BrokenBenchmarkError, current_rss_kib, run_purge_child
from bench.purge_data import NOW, POLICY_DAYS, insert_rows
from callrec_ari import log as logging_setup
from callrec_ari.config import LogFormat, LogSettings, RetentionPolicy
from callrec_ari.config.storage import AddressingStyle, S3Settings, StorageKind, StorageSettings
from callrec_ari.crypto.keys import LocalMasterKeys, MasterKey, new_data_key
from callrec_ari.crypto.store import put_keys
from callrec_ari.db.migrate import upgrade_to_head
from callrec_ari.db.models import Call, RecordingKey
from callrec_ari.db.session import open_sessions
from callrec_ari.lifecycle.purge import run_purge
from callrec_ari.storage import open_store
from callrec_ari.storage.recordings import Offsite, recording_keys
from callrec_ari.storage.s3 import S3Store
from tests.support.seaweedfs import ACCESS_KEY, SECRET_KEY, SeaweedServer, counted_requests

BUCKET = "callrec-bench"
POLICY = "days-7"
_BODY = b"CREC" + bytes(60)  # a sealed file's magic; the purge never reads the body
_PUTS_AT_ONCE = 32
_KEYS_PER_STATEMENT = 2_000
T = TypeVar("T")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options this measurement shares with ``bench.storage``."""
    parser.add_argument(
        "--recordings", type=int, default=10_000, help="expired recordings purged (10000)"
    )
    parser.add_argument("--batch-size", type=int, default=500, help="the purge's batch (500)")
    parser.add_argument("--postgres-url", help="also on this PostgreSQL database (emptied!)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="bench.purge_offsite", description=__doc__.split("\n")[0])
    add_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def s3_settings(endpoint: str, prefix: str) -> S3Settings:
    """The bench bucket on the SeaweedFS server at ``endpoint``, under ``prefix``."""
    return S3Settings(
        bucket=BUCKET,
        prefix=prefix,
        endpoint_url=endpoint,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        addressing_style=AddressingStyle.PATH,
        timeout_seconds=30.0,
    )


async def insert_keys(url: str) -> int:
    """A wrapped data key for every call's recording, as the sealer stores it; how many."""
    keys = LocalMasterKeys(MasterKey(os.urandom(32)))
    async with open_sessions(url) as sessions, sessions() as session, session.begin():
        await session.execute(delete(RecordingKey))
        paths = list(
            await session.scalars(
                select(Call.recording_path)
                .where(Call.recording_path.is_not(None))
                .order_by(Call.id)
            )
        )
        for start in range(0, len(paths), _KEYS_PER_STATEMENT):
            chunk = [p for p in paths[start : start + _KEYS_PER_STATEMENT] if p is not None]
            wrapped = [(path, keys.wrap(new_data_key(), path)) for path in chunk]
            await put_keys(session, wrapped, now=NOW)
    return len(paths)


async def recording_paths(url: str) -> list[str]:
    """Every stored call's relative recording path."""
    async with open_sessions(url) as sessions, sessions() as session:
        rows = await session.scalars(select(Call.recording_path).order_by(Call.id))
        return [path for path in rows if path is not None]


async def fill(store: S3Store, prefix: str, keys: list[str]) -> float:
    """Put a small body under every key (after ``prefix``, the store's), many at a time
    with the bare client; seconds."""
    started = time.perf_counter()
    slots = asyncio.Semaphore(_PUTS_AT_ONCE)

    async def one(key: str) -> None:
        async with slots:
            await store.client.put_object(Bucket=BUCKET, Key=prefix + key, Body=_BODY)

    await asyncio.gather(*(one(key) for key in keys))
    return time.perf_counter() - started


async def stored_keys(store: S3Store) -> int:
    """How many objects are under the store's prefix."""
    return len([info async for info in store.objects()])


async def _rows_left(url: str) -> dict[str, int]:
    async with open_sessions(url) as sessions, sessions() as session:
        counts = {
            "rows not purged": select(func.count())
            .select_from(Call)
            .where(Call.purged_at.is_(None)),
            "rows with a path": select(func.count())
            .select_from(Call)
            .where(Call.recording_path.is_not(None)),
            "rows not marked deleted": select(func.count())
            .select_from(Call)
            .where(Call.recording_status != "deleted"),
            "key rows": select(func.count()).select_from(RecordingKey),
        }
        return {name: int(await session.scalar(query) or 0) for name, query in counts.items()}


async def _prepare(url: str, count: int) -> list[str]:
    """The rows and key rows of ``count`` expired calls; their recordings' object keys."""
    await insert_rows(url, count)
    keyed = await insert_keys(url)
    if keyed != count:
        raise BrokenBenchmarkError(f"{keyed} key rows were written for {count} calls.")
    return [key for path in await recording_paths(url) for key in recording_keys(path)]


@dataclass(frozen=True, kw_only=True)
class Run:
    """One database's measurement: where its rows, files and objects are."""

    name: str
    url: str
    endpoint: str
    folder: Path
    batch_size: int

    @property
    def recordings(self) -> Path:
        """The (empty) recordings folder: every recording is in the store only."""
        return self.folder / "recordings"

    @property
    def prefix(self) -> str:
        """The purge's objects go under this prefix."""
        return f"offsite-{self.name}/"

    async def with_store(self, prefix: str, job: Callable[[S3Store], Awaitable[T]]) -> T:
        """``job`` on a store of the bench bucket under ``prefix``."""
        # Many connections: the filling puts 32 objects at a time.
        settings = s3_settings(self.endpoint, prefix)
        async with S3Store(settings, part_concurrency=_PUTS_AT_ONCE, session=AioSession()) as s:
            return await job(s)


def measure_database(
    name: str, url: str | None, server: SeaweedServer, args: argparse.Namespace, work: Path
) -> dict[str, Any]:
    """The purge of ``args.recordings`` recordings on one database, and the bare baseline."""
    folder = work / f"offsite-{name}"
    folder.mkdir()
    run = Run(
        name=name,
        url=url or f"sqlite+aiosqlite:///{folder / 'callrec.sqlite3'}",
        endpoint=server.endpoint_url,
        folder=folder,
        batch_size=args.batch_size,
    )
    run.recordings.mkdir()
    count = args.recordings
    print(f"{name}: {count} recordings: preparing...", file=sys.stderr, flush=True)
    upgrade_to_head(run.url)
    keys = asyncio.run(_prepare(run.url, count))
    filled = asyncio.run(run.with_store(run.prefix, lambda store: fill(store, run.prefix, keys)))
    if asyncio.run(run.with_store(run.prefix, stored_keys)) != len(keys):
        raise BrokenBenchmarkError("The bucket does not hold every object the bench put.")
    result = _run_child(run)
    left = asyncio.run(_rows_left(run.url))
    left["objects"] = asyncio.run(run.with_store(run.prefix, stored_keys))
    report = result["report"]
    expected = {"reduced": count, "files_deleted": count, "files_missing": 0}
    wrong = {key: report[key] for key, value in expected.items() if report[key] != value}
    if any(left.values()) or wrong:
        raise BrokenBenchmarkError(
            f"{name}: the purge left {left} and reported {wrong} (expected {expected})."
        )
    print(f"{name}: purge {result['seconds']:.2f} s", file=sys.stderr, flush=True)
    base_prefix = f"offsite-{name}-baseline/"
    result["baseline"] = asyncio.run(run.with_store(base_prefix, _baseline(base_prefix, keys)))
    result.update(recordings=count, objects=len(keys), fill_seconds=filled)
    shutil.rmtree(folder, ignore_errors=True)
    return result


def _baseline(prefix: str, keys: list[str]) -> Callable[[S3Store], Awaitable[dict[str, Any]]]:
    """The same objects filled again and removed with a bare ``delete_many``."""

    async def job(store: S3Store) -> dict[str, Any]:
        await fill(store, prefix, keys)
        requests = counted_requests(store.client)
        started = time.perf_counter()
        await store.delete_many(keys)
        seconds = time.perf_counter() - started
        sent = dict(requests)  # not the listing below
        if await stored_keys(store):
            raise BrokenBenchmarkError("The bare batch delete left objects behind.")
        return {"seconds": seconds, "objects": len(keys), "requests": sent}

    return job


def _run_child(run: Run) -> dict[str, Any]:
    out = run.folder / "result.json"
    command = [
        sys.executable, "-m", "bench.purge_offsite", "--child", "--url", run.url,
        "--endpoint", run.endpoint, "--prefix", run.prefix, "--dir", str(run.recordings),
        "--out", str(out), "--batch-size", str(run.batch_size),
    ]  # fmt: skip
    return run_purge_child(command, out, "The purge")


def _child(args: argparse.Namespace) -> int:
    logging_setup.configure(LogSettings(format=LogFormat.CONSOLE, level="warning"))
    result = asyncio.run(_purge(args))
    args.out.write_text(json.dumps(result), encoding="utf-8")
    return 0


async def _purge(args: argparse.Namespace) -> dict[str, Any]:
    """``callrec purge`` with an S3 store: the store from its settings, then ``run_purge``."""
    storage = StorageSettings(
        kind=StorageKind.S3,
        location="PL",
        s3=s3_settings(args.endpoint, args.prefix),
        outbox_dir=args.dir.parent / "outbox",
    )
    policies = {POLICY: RetentionPolicy(name=POLICY, days=POLICY_DAYS)}
    store = await open_store(storage, args.dir)
    try:
        assert isinstance(store, S3Store)
        requests = counted_requests(store.client)
        offsite = Offsite(store=store, outbox=storage.outbox_dir)
        async with open_sessions(args.url) as sessions:
            before = current_rss_kib()
            started = time.perf_counter()
            report = await run_purge(
                sessions,
                recordings_dir=args.dir,
                retention=policies,
                now=NOW,
                batch_size=args.batch_size,
                offsite=offsite,
            )
            seconds = time.perf_counter() - started
    finally:
        await store.close()
    return {
        "seconds": seconds,
        "rss_before_mib": before / 1024,
        "requests": dict(requests),
        "report": {
            "reduced": report.reduced,
            "files_deleted": report.files_deleted,
            "files_missing": report.files_missing,
        },
    }


def run(args: argparse.Namespace, server: SeaweedServer, work: Path) -> dict[str, Any]:
    """Every database's measurement on ``server`` (its bench bucket is created here)."""
    server.create_bucket(BUCKET)
    databases: dict[str, str | None] = {"sqlite": None}
    if args.postgres_url:
        databases["postgresql"] = args.postgres_url
    return {
        "recordings": args.recordings,
        "batch_size": args.batch_size,
        "runs": {
            name: measure_database(name, url, server, args, work) for name, url in databases.items()
        },
    }


def table(results: dict[str, Any]) -> str:
    """The measurements as a table."""
    count = results["recordings"]
    lines = [
        f"Purge of {count} recordings held only by the store ({3 * count} objects, "
        f"{count} key rows), run_purge in batches of {results['batch_size']}",
        "",
        f"{'':24}{'seconds':>9}{'rec/s':>9}{'obj/s':>9}{'requests':>10}{'peak RSS':>10}",
    ]
    for database, run in results["runs"].items():
        base = run["baseline"]
        ours_requests = sum(run["requests"].values())
        lines.append(
            f"{database + ' run_purge':24}{run['seconds']:9.2f}{count / run['seconds']:9.0f}"
            f"{run['objects'] / run['seconds']:9.0f}{ours_requests:10}"
            f"{run['peak_rss_mib']:8.1f} MB"
        )
        lines.append(
            f"{'  bare delete_many':24}{base['seconds']:9.2f}{'':9}"
            f"{base['objects'] / base['seconds']:9.0f}{sum(base['requests'].values()):10}"
        )
        lines.append(
            f"  ratio {run['seconds'] / base['seconds']:.1f}x; requests: "
            + ", ".join(f"{op} {n}" for op, n in sorted(run["requests"].items()))
            + f"; RSS before the purge {run['rss_before_mib']:.1f} MB"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the measurement (or, with --child, the one timed purge)."""
    args = parse_args(argv)
    if args.child:
        return _child(args)
    work = Path(tempfile.mkdtemp(prefix="callrec-bench-offsite-"))
    try:
        with SeaweedServer() as server:
            results = run(args, server, work)
    except BrokenBenchmarkError as exc:
        print(f"BROKEN BENCHMARK: {exc}", file=sys.stderr)
        return 3
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
    else:
        print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
