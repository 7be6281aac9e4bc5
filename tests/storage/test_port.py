"""The contract every RecordingStore keeps: run against a folder and a real S3 server."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from callrec_ari.errors import InputError, NotFoundError
from callrec_ari.storage import RecordingStore
from tests.storage.conftest import PART_BYTES

KEY = "2026/12/02/1764680000.42.wav"


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def audio(tmp_path: Path) -> bytes:
    """A few hundred kilobytes that differ byte by byte, so a wrong offset shows."""
    return os.urandom(300_000)


async def test_put_then_read_returns_the_same_bytes(store: RecordingStore, tmp_path, audio):
    """A stored file reads back byte for byte, with its size in head()."""
    source = write(tmp_path / "call.wav", audio)
    info = await store.put(KEY, source)
    assert info.size == len(audio)
    head = await store.head(KEY)
    assert head is not None
    assert head.size == len(audio)
    stream = await store.read(KEY)
    assert (stream.start, stream.length, stream.total) == (0, len(audio), len(audio))
    assert await stream.read_all() == audio
    assert source.read_bytes() == audio  # the source is left for the caller to remove


async def test_put_replaces_an_object(store: RecordingStore, tmp_path):
    """Storing under a key twice keeps the second file."""
    await store.put(KEY, write(tmp_path / "a", b"first version"))
    await store.put(KEY, write(tmp_path / "b", b"second"))
    assert await (await store.read(KEY)).read_all() == b"second"
    assert (await store.head(KEY)).size == 6


@pytest.mark.parametrize(
    ("start", "end"),
    [(0, 1), (1000, 2000), (299_999, 300_000), (150_000, None), (123, 123), (0, 10**9)],
)
async def test_read_returns_exactly_the_range(store, tmp_path, audio, start, end):
    """Bytes [start, end) come back, clamped to the object, with the object's total size."""
    await store.put(KEY, write(tmp_path / "call.wav", audio))
    async with await store.read(KEY, start, end) as stream:
        data = b"".join([chunk async for chunk in stream])
    assert data == audio[start:end]
    assert stream.start == start
    assert stream.length == len(data)
    assert stream.total == len(audio)


async def test_read_past_the_end_is_empty(store: RecordingStore, tmp_path, audio):
    """A range starting at or past the end yields no bytes but still knows the size."""
    await store.put(KEY, write(tmp_path / "call.wav", audio))
    stream = await store.read(KEY, len(audio) + 5, len(audio) + 10)
    assert await stream.read_all() == b""
    assert stream.total == len(audio)


async def test_an_empty_file_is_stored_and_read(store: RecordingStore, tmp_path):
    """A zero-byte file is an object of size 0 whose read yields nothing."""
    await store.put(KEY, write(tmp_path / "empty", b""))
    assert (await store.head(KEY)).size == 0
    assert await (await store.read(KEY)).read_all() == b""


async def test_reading_a_missing_object_names_it(store: RecordingStore):
    """Reading a key that holds nothing raises NotFoundError naming the key."""
    with pytest.raises(NotFoundError, match=KEY):
        await store.read(KEY, 0, 10)


async def test_closing_a_stream_early_leaves_the_store_usable(store, tmp_path):
    """A reader that stops after one chunk of a large range can read again at once."""
    data = os.urandom(1_000_000)
    await store.put(KEY, write(tmp_path / "call.wav", data))
    for _ in range(3):
        stream = await store.read(KEY, 10)
        async for chunk in stream:
            assert chunk == data[10 : 10 + len(chunk)]
            break
        await stream.aclose()
    assert await (await store.read(KEY, 5, 9)).read_all() == data[5:9]


async def test_a_file_larger_than_one_part_reads_back_across_parts(store, tmp_path):
    """A file above the S3 part size (a multipart upload) is whole, also across a part edge."""
    data = os.urandom(12 * 1024 * 1024 + 17)
    await store.put(KEY, write(tmp_path / "long.wav", data))
    assert (await store.head(KEY)).size == len(data)
    edge = PART_BYTES
    assert await (await store.read(KEY, edge - 3, edge + 3)).read_all() == data[edge - 3 : edge + 3]
    assert await store.checksum(KEY) == hashlib.sha256(data).hexdigest()


async def test_checksum_is_the_sha256_of_the_stored_bytes(store, tmp_path, audio):
    """checksum() is the file's SHA-256 after a put, and None for a missing key."""
    await store.put(KEY, write(tmp_path / "call.wav", audio))
    assert await store.checksum(KEY) == hashlib.sha256(audio).hexdigest()
    assert await store.checksum("2026/12/02/other.wav") is None


async def test_head_of_a_missing_object_is_none(store: RecordingStore):
    """head() answers None, not an error, for a key that holds nothing."""
    assert await store.head(KEY) is None


async def test_delete_is_idempotent(store: RecordingStore, tmp_path):
    """Deleting removes the object; deleting it again is not an error."""
    await store.put(KEY, write(tmp_path / "call.wav", b"audio"))
    await store.delete(KEY)
    assert await store.head(KEY) is None
    await store.delete(KEY)
    assert await store.head(KEY) is None


async def test_delete_many_removes_only_the_keys_given(store: RecordingStore, tmp_path):
    """A batch delete removes the listed objects (missing ones count) and keeps the rest."""
    source = write(tmp_path / "small", b"x")
    keys = [f"2026/12/02/call-{index:04d}.wav" for index in range(30)]
    for key in keys:
        await store.put(key, source)
    await store.put("2026/12/03/kept.wav", source)
    handled = await store.delete_many([*keys, "2026/12/02/never-stored.wav"])
    assert handled == 31
    assert [info.key async for info in store.objects()] == ["2026/12/03/kept.wav"]


async def test_objects_lists_every_key_under_a_prefix(store: RecordingStore, tmp_path):
    """objects() yields every key under the prefix (a prefix need not end at a folder)."""
    keys = [
        "2026/12/02/b.wav",
        "2026/12/02/a.wav",
        "2026/12/02/a.wav.done",
        "2026/12/02-x/c.wav",
        "2026/12/020/d.wav",
        "2026/12/03/e.wav",
        "2027/01/01/f.wav",
    ]
    for index, key in enumerate(keys):
        await store.put(key, write(tmp_path / f"f{index}", b"x" * index))
    listed = [info async for info in store.objects()]
    assert sorted(info.key for info in listed) == sorted(keys)
    assert {info.key: info.size for info in listed}["2026/12/03/e.wav"] == 5
    under_day = sorted([info.key async for info in store.objects("2026/12/02/")])
    assert under_day == ["2026/12/02/a.wav", "2026/12/02/a.wav.done", "2026/12/02/b.wav"]
    partial = sorted([info.key async for info in store.objects("2026/12/02")])
    assert partial == sorted(key for key in keys if key.startswith("2026/12/02"))
    assert [info async for info in store.objects("2025/")] == []


async def test_objects_may_start_after_a_key(store: RecordingStore, tmp_path):
    """With ``start_after`` the listing begins at the first key sorting after it, in key
    order, across folders; a shortened key starts just before the key itself."""
    keys = ["2026/12/02/a.wav", "2026/12/02/b.wav", "2026/12/02/c.wav", "2026/12/03/d.wav"]
    for index, key in enumerate(keys):
        await store.put(key, write(tmp_path / f"f{index}", b"x"))
    listed = [info.key async for info in store.objects(start_after="2026/12/02/a.wav")]
    assert listed == keys[1:]
    from_b = [
        info.key async for info in store.objects("2026/12/02/", start_after="2026/12/02/b.wa")
    ]
    assert from_b == keys[1:3]
    assert [info.key async for info in store.objects(start_after="2026/12/02/z")] == keys[3:]
    assert [info.key async for info in store.objects(start_after="2026/12/04")] == []


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../outside.wav", "a//b.wav", "a/./b"])
async def test_a_key_leaving_the_store_is_refused(store: RecordingStore, tmp_path, key):
    """Keys that are not plain relative paths are refused before anything is touched."""
    with pytest.raises(InputError, match="not a relative path"):
        await store.put(key, write(tmp_path / "f", b"x"))
    with pytest.raises(InputError):
        await store.head(key)


async def test_a_folder_of_keys_is_not_an_object(store: RecordingStore, tmp_path):
    """The beginning of other keys ("2026/12") holds nothing: no head, no read, no checksum,
    and deleting it removes nothing."""
    await store.put(KEY, write(tmp_path / "call.wav", b"audio"))
    assert await store.head("2026/12") is None
    assert await store.checksum("2026/12") is None
    with pytest.raises(NotFoundError):
        await store.read("2026/12")
    await store.delete("2026/12")
    await store.delete_many(["2026/12/02", "2026"])
    assert await (await store.read(KEY)).read_all() == b"audio"
