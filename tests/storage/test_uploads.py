"""The upload queue: retried until confirmed, the local file removed only then, nothing lost."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiobotocore.session import AioSession
from structlog.testing import capture_logs

from callrec_ari.errors import DatabaseError, StorageError
from callrec_ari.storage import LocalStore, RecordingStore
from callrec_ari.storage.s3 import S3Store
from callrec_ari.storage.uploads import UploadQueue
from callrec_ari.supervision import TaskStatus
from tests.storage.conftest import BUCKET
from tests.support.seaweedfs import SeaweedServer

WAIT_SECONDS = 60.0


def finished_file(folder: Path, name: str, data: bytes) -> Path:
    """A finished recording (as the pipeline would hand it over) outside the outbox."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


@contextlib.asynccontextmanager
async def running(queue: UploadQueue, status: TaskStatus | None = None) -> AsyncIterator[None]:
    """The queue's run() as a task for the body of the block, cancelled afterwards."""
    task = asyncio.create_task(queue.run(status or TaskStatus("uploads")))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def idle(queue: UploadQueue) -> None:
    async with asyncio.timeout(WAIT_SECONDS):
        await queue.wait_idle()


async def wait_for(condition, what: str) -> None:
    """Poll ``condition`` until true, failing with ``what`` after WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out waiting for {what}.")
        await asyncio.sleep(0.02)


async def assert_stored(store: RecordingStore, key: str, data: bytes) -> None:
    assert await store.checksum(key) == hashlib.sha256(data).hexdigest()
    assert await (await store.read(key)).read_all() == data


async def test_added_files_are_stored_then_removed_here(store: RecordingStore, tmp_path):
    """Each added file ends up in the store, on_stored hears of it, and the outbox empties."""
    stored: list[str] = []

    async def on_stored(key: str) -> None:
        assert queue.path_for(key).exists()  # still here: the callback runs before removal
        stored.append(key)

    queue = UploadQueue(store, tmp_path / "outbox", on_stored=on_stored)
    files = {f"2026/12/02/call-{index}.wav": os.urandom(50_000 + index) for index in range(5)}
    async with running(queue):
        for key, data in files.items():
            await queue.add(finished_file(tmp_path / "done", key.replace("/", "_"), data), key)
        await idle(queue)
    assert sorted(stored) == sorted(files)
    assert list((tmp_path / "outbox").iterdir()) == []
    assert list((tmp_path / "done").iterdir()) == []  # moved in, not copied
    for key, data in files.items():
        await assert_stored(store, key, data)


async def test_a_recording_handed_over_together_goes_up_as_far_as_it_was_moved(
    store: RecordingStore, tmp_path
):
    """add_many moves a recording's files in one go; when one of them is missing, the files
    before it are uploaded all the same, the one after it stays where it was, and the error
    names the missing file."""
    queue = UploadQueue(store, tmp_path / "outbox")
    mix = finished_file(tmp_path / "done", "1.wav.enc", b"mix")
    missing = tmp_path / "done" / "1.caller.wav.enc"
    agent = finished_file(tmp_path / "done", "1.agent.wav.enc", b"agent leg")
    async with running(queue):
        with pytest.raises(StorageError, match=r"1\.caller\.wav\.enc"):
            await queue.add_many(
                [
                    (mix, "d/1.wav.enc"),
                    (missing, "d/1.caller.wav.enc"),
                    (agent, "d/1.agent.wav.enc"),
                ]
            )
        await idle(queue)
    await assert_stored(store, "d/1.wav.enc", b"mix")
    assert await store.head("d/1.agent.wav.enc") is None
    assert agent.read_bytes() == b"agent leg"


async def test_files_added_while_stopped_go_up_at_the_next_start(store, tmp_path):
    """The queue is the outbox folder: files added before run() are found and uploaded."""
    queue = UploadQueue(store, tmp_path / "outbox")
    await queue.add(finished_file(tmp_path, "a.wav", b"first call"), "2026/12/02/a.wav")
    await queue.add(finished_file(tmp_path, "b.wav", b"second call"), "2026/12/02/b.wav")
    restarted = UploadQueue(store, tmp_path / "outbox")
    async with running(restarted):
        await idle(restarted)
    await assert_stored(store, "2026/12/02/a.wav", b"first call")
    await assert_stored(store, "2026/12/02/b.wav", b"second call")
    assert list((tmp_path / "outbox").iterdir()) == []


async def test_a_crash_after_the_upload_is_repaired_without_uploading_again(store, tmp_path):
    """An object already stored for a file still in the outbox (the process died between
    upload and removal) is confirmed at restart, reported once more, and the file removed."""
    key = "2026/12/02/crashed.wav"
    data = os.urandom(80_000)
    await store.put(key, finished_file(tmp_path, "copy.wav", data))
    await UploadQueue(store, tmp_path / "outbox").add(
        finished_file(tmp_path, "crashed.wav", data), key
    )
    stored: list[str] = []

    async def on_stored(done: str) -> None:
        stored.append(done)

    queue = UploadQueue(store, tmp_path / "outbox", on_stored=on_stored)
    with capture_logs() as logs:
        async with running(queue):
            await idle(queue)
    done = [entry for entry in logs if entry["event"] == "storage.upload_done"]
    assert [(entry["key"], entry["outcome"]) for entry in done] == [(key, "already_stored")]
    assert stored == [key]
    assert list((tmp_path / "outbox").iterdir()) == []
    await assert_stored(store, key, data)


async def test_a_different_object_under_the_key_is_replaced(store: RecordingStore, tmp_path):
    """An object under the key that is not this file (size or SHA-256 differ) is overwritten."""
    key = "2026/12/02/reused.wav"
    await store.put(key, finished_file(tmp_path, "old.wav", b"an older, different file"))
    queue = UploadQueue(store, tmp_path / "outbox")
    async with running(queue):
        await queue.add(finished_file(tmp_path, "new.wav", b"the real audio!!"), key)
        await idle(queue)
    await assert_stored(store, key, b"the real audio!!")


async def test_a_failing_on_stored_keeps_the_file_and_retries(tmp_path):
    """If on_stored fails (the database is down), the file stays and the step is retried."""
    store = LocalStore(tmp_path / "store")
    calls: list[str] = []

    async def on_stored(key: str) -> None:
        calls.append(key)
        if len(calls) == 1:
            assert queue.path_for(key).exists()
            raise DatabaseError("The database cannot be reached.")

    queue = UploadQueue(store, tmp_path / "outbox", on_stored=on_stored, retry_min_seconds=0.01)
    status = TaskStatus("uploads")
    with capture_logs() as logs:
        async with running(queue, status):
            await queue.add(finished_file(tmp_path, "a.wav", b"audio"), "2026/12/02/a.wav")
            await idle(queue)
    assert calls == ["2026/12/02/a.wav", "2026/12/02/a.wav"]
    assert status.rounds_failed == 1
    assert status.last_error == "The database cannot be reached."
    failed = [entry for entry in logs if entry["event"] == "storage.upload_failed"]
    assert failed[0]["error"] == "The database cannot be reached."
    assert not queue.path_for("2026/12/02/a.wav").exists()


async def test_a_file_the_store_keeps_refusing_holds_up_no_other(tmp_path):
    """With one worker, a file that cannot be stored (a folder stands at its key) is retried
    behind the others: the next file is stored meanwhile, and the refused one is kept."""
    store = LocalStore(tmp_path / "store")
    (tmp_path / "store" / "2026" / "12" / "02" / "blocked.wav").mkdir(parents=True)
    queue = UploadQueue(store, tmp_path / "outbox", workers=1, retry_min_seconds=0.05)
    status = TaskStatus("uploads")
    async with running(queue, status):
        await queue.add(finished_file(tmp_path, "a.wav", b"refused"), "2026/12/02/blocked.wav")
        await queue.add(finished_file(tmp_path, "b.wav", b"fine"), "2026/12/02/fine.wav")
        await wait_for(lambda: not queue.path_for("2026/12/02/fine.wav").exists(), "fine.wav")
        await wait_for(lambda: status.rounds_failed >= 2, "a second refusal")
        assert queue.pending == {"2026/12/02/blocked.wav"}
        assert queue.path_for("2026/12/02/blocked.wav").read_bytes() == b"refused"
    assert "cannot be written" in (status.last_error or "")
    await assert_stored(store, "2026/12/02/fine.wav", b"fine")


async def test_half_copied_files_are_dropped_at_start(tmp_path):
    """A copy into the outbox cut off by a crash (its source still exists) is removed."""
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    (outbox / ".incoming-0123456789abcdef").write_bytes(b"half a rec")
    store = LocalStore(tmp_path / "store")
    queue = UploadQueue(store, outbox)
    async with running(queue):
        await idle(queue)
    assert list(outbox.iterdir()) == []
    assert [info async for info in store.objects()] == []


@pytest.fixture
def own_server() -> Iterator[SeaweedServer]:
    """A SeaweedFS server of this test's own, which the test may stop and start again."""
    with SeaweedServer() as server:
        server.create_bucket(BUCKET)
        yield server


async def test_an_outage_of_the_store_delays_uploads_and_loses_nothing(own_server, tmp_path):
    """With SeaweedFS stopped, add() still returns at once and files wait in the outbox;
    once it is back, every file is uploaded and only then removed here."""
    settings = own_server.settings(BUCKET, timeout_seconds=2.0)
    async with S3Store(settings, max_attempts=1) as store:
        queue = UploadQueue(
            store, tmp_path / "outbox", retry_min_seconds=0.05, retry_max_seconds=0.5
        )
        status = TaskStatus("uploads")
        before = {f"2026/12/02/before-{index}.wav": os.urandom(20_000) for index in range(3)}
        during = {f"2026/12/02/during-{index}.wav": os.urandom(20_000) for index in range(3)}
        async with running(queue, status):
            for key, data in before.items():
                await queue.add(finished_file(tmp_path, key.replace("/", "_"), data), key)
            await idle(queue)

            own_server.stop()
            for key, data in during.items():
                started = time.monotonic()
                await queue.add(finished_file(tmp_path, key.replace("/", "_"), data), key)
                assert time.monotonic() - started < 0.5
            await wait_for(lambda: status.failed_rounds >= 3, "uploads failing in the outage")
            assert status.failing
            assert "cannot be reached" in (status.last_error or "")
            assert f"127.0.0.1:{own_server.ports['s3.port']}" in (status.last_error or "")
            waiting = sorted(path.name for path in (tmp_path / "outbox").iterdir())
            assert waiting == sorted(queue.path_for(key).name for key in during)

            own_server.start()
            await idle(queue)
        assert not status.failing
        assert list((tmp_path / "outbox").iterdir()) == []
        for key, data in {**before, **during}.items():
            await assert_stored(store, key, data)


async def test_an_upload_cut_off_midway_is_finished_after_restart(seaweed, tmp_path):
    """Stopping the queue during a multipart upload aborts it and keeps the file; the next
    run uploads it whole."""
    key = "2026/12/02/long-call.wav"
    data = os.urandom(40 * 1024 * 1024)
    settings = seaweed.settings(BUCKET, prefix=f"cut-{os.getpid()}-{time.time_ns()}/")
    checker = seaweed.client()

    def uploads_in_progress() -> list[dict]:
        answer = checker.list_multipart_uploads(Bucket=BUCKET, Prefix=settings.prefix)
        return answer.get("Uploads", [])

    def a_part_arrived() -> bool:
        # Not merely begun: before its id reaches callrec, an upload cannot be aborted.
        return any(
            checker.list_parts(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"]).get(
                "Parts"
            )
            for upload in uploads_in_progress()
        )

    session = AioSession()
    async with S3Store(settings, session=session, part_concurrency=1) as store:
        queue = UploadQueue(store, tmp_path / "outbox")
        await queue.add(finished_file(tmp_path, "long.wav", data), key)
        task = asyncio.create_task(queue.run())
        await wait_for(a_part_arrived, "the first part of the upload")
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert queue.path_for(key).exists()
        assert uploads_in_progress() == []  # aborted, not left to cost space
        assert await store.head(key) is None

        restarted = UploadQueue(store, tmp_path / "outbox")
        async with running(restarted):
            await idle(restarted)
        await assert_stored(store, key, data)
        assert not queue.path_for(key).exists()


async def test_uploads_never_hold_up_the_event_loop(seaweed, aio_session, tmp_path):
    """While a 64 MB file is hashed and uploaded in 16 MiB parts, the event loop never spends
    more than 30 ms of its own CPU between two turns (hashing a part there takes 40)."""
    data = os.urandom(64 * 1024 * 1024)
    settings = seaweed.settings(BUCKET, prefix=f"loop-{time.time_ns()}/")
    store = await S3Store(settings, session=aio_session).open()
    await store.head("2026/12/02/long.wav")  # the client's one-off set-up, before measuring
    queue = UploadQueue(store, tmp_path / "outbox")
    longest = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        # CPU time of the loop's own thread: what our code costs the loop, not what a busy
        # machine's scheduler adds (worker threads' hashing is not counted).
        nonlocal longest
        last = time.thread_time()
        while not done.is_set():
            await asyncio.sleep(0.002)
            now = time.thread_time()
            longest = max(longest, now - last)
            last = now

    source = finished_file(tmp_path, "long.wav", data)
    ticking = asyncio.create_task(ticker())
    async with running(queue):
        await queue.add(source, "2026/12/02/long.wav")
        await idle(queue)
    done.set()
    await ticking
    assert await store.checksum("2026/12/02/long.wav") == hashlib.sha256(data).hexdigest()
    await store.close()
    assert longest < 0.03, f"the event loop ran {longest * 1000:.0f} ms without a break"


class Counting:
    """The store, with the requests the queue makes of it counted (every call goes through)."""

    def __init__(self, store: RecordingStore) -> None:
        self._store = store
        self.calls: list[str] = []

    def __getattr__(self, name: str):
        attribute = getattr(self._store, name)
        if name not in {"put", "head", "checksum"}:
            return attribute

        async def counted(*args, **kwargs):
            self.calls.append(name)
            return await attribute(*args, **kwargs)

        return counted


async def test_a_handed_over_file_costs_one_put_on_s3(store: RecordingStore, tmp_path):
    """A file added in this run is stored without asking the store first; S3 confirms it in
    the PUT's own answer (it checked the Content-MD5), a folder by reading the copy back. One
    found in the outbox at start is looked up first, as an earlier run may have stored it."""
    counting = Counting(store)
    queue = UploadQueue(counting, tmp_path / "outbox")  # type: ignore[arg-type]
    data = os.urandom(5000)
    async with running(queue):
        await queue.add(finished_file(tmp_path / "in", "a.wav.enc", data), "a.wav.enc")
        await idle(queue)
    await assert_stored(store, "a.wav.enc", data)
    if isinstance(store, S3Store):
        assert counting.calls == ["put"]
    else:
        assert counting.calls == ["put", "head", "checksum"]

    counting.calls.clear()
    left = finished_file(tmp_path / "outbox", "b.wav.enc", data)  # as a crashed run left it
    async with running(queue):
        await wait_for(lambda: not left.exists(), "the file found at start to go up")
    assert counting.calls[:1] == ["head"]
