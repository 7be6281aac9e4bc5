"""The folder store: atomic puts, listings without half-made copies or links, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from callrec_ari.errors import StorageError
from callrec_ari.storage import LocalStore
from callrec_ari.storage.local import TEMP_PREFIX


def source(tmp_path: Path, data: bytes = b"audio") -> Path:
    path = tmp_path / "source.wav"
    path.write_bytes(data)
    return path


async def test_a_put_lands_as_a_file_under_the_key(tmp_path: Path):
    """The key is the path below the folder; no temporary file is left beside it."""
    store = LocalStore(tmp_path / "store")
    await store.put("2026/12/02/a.wav", source(tmp_path, b"RIFF...."))
    day = tmp_path / "store" / "2026" / "12" / "02"
    assert sorted(path.name for path in day.iterdir()) == ["a.wav"]
    assert (day / "a.wav").read_bytes() == b"RIFF...."


async def test_listing_skips_unfinished_copies_and_links(tmp_path: Path):
    """A copy cut off by a crash and a symbolic link are not objects."""
    store = LocalStore(tmp_path / "store")
    await store.put("2026/12/02/a.wav", source(tmp_path))
    day = tmp_path / "store" / "2026" / "12" / "02"
    (day / f"{TEMP_PREFIX}0123abcd").write_bytes(b"half")
    (day / "link.wav").symlink_to(tmp_path / "source.wav")
    assert [info.key async for info in store.objects()] == ["2026/12/02/a.wav"]


async def test_listing_is_in_key_order_as_s3_sorts(tmp_path: Path):
    """Folders and files interleave in byte order of the whole key (``-`` before ``/``)."""
    store = LocalStore(tmp_path / "store")
    keys = ["a/b.wav", "a-c.wav", "a/a.wav", "a0.wav", "b.wav"]
    for key in keys:
        await store.put(key, source(tmp_path))
    assert [info.key async for info in store.objects()] == sorted(keys)


async def test_a_folder_where_the_store_should_be_is_one_sentence(tmp_path: Path):
    """A file in place of the store's folder: StorageError naming the folder, no traceback."""
    root = tmp_path / "store"
    root.write_bytes(b"not a folder")
    with pytest.raises(StorageError, match=f"^The recordings folder {root} cannot be written"):
        await LocalStore(root).put("2026/a.wav", source(tmp_path))


async def test_a_missing_source_file_is_named(tmp_path: Path):
    """Storing a file that is not there names that file."""
    missing = tmp_path / "gone.wav"
    with pytest.raises(StorageError, match=f"^The file {missing} to be stored does not exist"):
        await LocalStore(tmp_path / "store").put("a.wav", missing)
