"""Where a recording's files are (folder, outbox, store) and removing them from all three."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from callrec_ari.recording.audio import sealed_path
from callrec_ari.storage.recordings import (
    Found,
    Offsite,
    Place,
    fetched,
    held_offsite,
    locate,
    recording_keys,
    remove_offsite,
    storage_key,
)
from callrec_ari.storage.s3 import S3Store
from tests.storage.conftest import BUCKET
from tests.support.seaweedfs import counted_requests

MIX = "2026/12/02/1764.12.wav"


def test_a_recording_s_keys_are_its_plain_paths_with_enc():
    """The mix and both legs, each ``<relative plain path>.enc``."""
    assert storage_key(MIX) == "2026/12/02/1764.12.wav.enc"
    assert recording_keys(MIX) == [
        "2026/12/02/1764.12.wav.enc",
        "2026/12/02/1764.12.caller.wav.enc",
        "2026/12/02/1764.12.agent.wav.enc",
    ]


async def test_a_file_is_found_wherever_it_went(offsite: Offsite, tmp_path: Path):
    """Plain in the folder, sealed in the folder, in the outbox, in the store: each found
    with its size as stored; nowhere once removed."""
    recordings = tmp_path / "recordings"
    plain = recordings / MIX
    plain.parent.mkdir(parents=True)
    plain.write_bytes(b"RIFF plain")
    assert await locate(plain, MIX, offsite) == _found(Place.PLAIN, path=plain, size=10)

    plain.rename(sealed_path(plain))
    assert await locate(plain, MIX, offsite) == _found(
        Place.SEALED, path=sealed_path(plain), size=10
    )

    waiting = offsite.outbox_file(storage_key(MIX))
    waiting.parent.mkdir()
    sealed_path(plain).rename(waiting)
    assert await locate(plain, MIX, offsite) == _found(Place.OUTBOX, path=waiting, size=10)

    await offsite.store.put(storage_key(MIX), waiting)
    waiting.unlink()
    found = await locate(plain, MIX, offsite)
    assert found == _found(Place.STORE, key=storage_key(MIX), size=10)
    assert found is not None
    assert found.encrypted

    assert await remove_offsite(offsite, [MIX]) == {MIX}
    assert await locate(plain, MIX, offsite) is None
    assert await locate(plain, MIX, None) is None  # without object storage: the folder only


async def test_removing_takes_the_outbox_files_and_the_objects_and_may_run_again(
    offsite: Offsite, tmp_path: Path
):
    """The mix in the store and a leg still in the outbox both go; a second run finds
    nothing and fails on nothing."""
    source = tmp_path / "sealed"
    source.write_bytes(b"CREC")
    mix_key, caller_key, _ = recording_keys(MIX)
    await offsite.store.put(mix_key, source)
    offsite.outbox.mkdir()
    offsite.outbox_file(caller_key).write_bytes(b"CREC")
    await offsite.store.put("2026/12/02/other.wav.enc", source)

    assert await remove_offsite(offsite, [MIX]) == {MIX}
    assert list(offsite.outbox.iterdir()) == []
    assert [info.key async for info in offsite.store.objects()] == ["2026/12/02/other.wav.enc"]
    assert await remove_offsite(offsite, [MIX]) == set()


def _found(place: Place, *, size: int, path: Path | None = None, key: str | None = None) -> Found:
    return Found(place=place, path=path, key=key, size=size)


async def test_whole_file_readers_get_private_copies_removed_afterwards(
    offsite: Offsite, tmp_path: Path
):
    """A sealed file waiting in the outbox and one only the store holds are copied into a
    private folder (the outbox's file may go meanwhile); one still in the recordings folder
    is left to the reader; the folder is gone after the block."""
    recordings = tmp_path / "recordings"
    (recordings / "2026/12/02").mkdir(parents=True)
    here, waiting, stored = (f"2026/12/02/{name}.wav" for name in ("here", "waiting", "stored"))
    sealed_path(recordings / here).write_bytes(b"CREC here")
    offsite.outbox.mkdir()
    offsite.outbox_file(storage_key(waiting)).write_bytes(b"CREC waiting")
    source = tmp_path / "source"
    source.write_bytes(b"CREC stored")
    await offsite.store.put(storage_key(stored), source)
    key = bytes(32)
    wanted = [(here, key), (waiting, key), (stored, key)]
    async with fetched(recordings, wanted, offsite) as copies:
        assert sorted(copies) == [stored, waiting]
        offsite.outbox_file(storage_key(waiting)).unlink()  # uploaded meanwhile
        assert copies[waiting].path.read_bytes() == b"CREC waiting"
        assert copies[stored].path.read_bytes() == b"CREC stored"
        assert copies[stored].key == key
        folder = copies[stored].path.parent
        assert folder.stat().st_mode & 0o777 == 0o700
    assert not folder.exists()


async def _put_all(store: S3Store, source: Path, keys: list[str]) -> None:
    await asyncio.gather(*(store.put(key, source) for key in keys))


async def test_the_store_is_asked_once_per_folder_holding_many(
    offsite: Offsite, s3_store: S3Store, tmp_path: Path
):
    """Forty recordings of one day are found with one listing (a stored recording not asked
    about, among them, is not reported), three of another day with a lookup each; those in
    the outbox cost no request."""
    busy = [f"2026/12/02/1764.{n}.wav" for n in range(40)]
    quiet = [f"2026/12/03/1765.{n}.wav" for n in range(3)]
    stored, waiting = [*busy[:30:2], *quiet[:2]], busy[1:10:2]
    source = tmp_path / "sealed"
    source.write_bytes(b"CREC")
    keys = [key for relative in stored for key in recording_keys(relative)]
    await _put_all(s3_store, source, [*keys, storage_key("2026/12/02/1764.100.wav")])
    offsite.outbox.mkdir()
    for relative in waiting:
        offsite.outbox_file(storage_key(relative)).write_bytes(b"CREC")
    sent = counted_requests(s3_store.client)

    assert await held_offsite(offsite, [*busy, *quiet]) == {*stored, *waiting}
    assert sent == {"ListObjectsV2": 1, "HeadObject": 3}


async def test_a_listing_reads_only_the_pages_between_the_first_and_last_recording(
    seaweed, aio_session, tmp_path: Path
):
    """Twenty recordings stored, ten in the middle asked about, three keys a page: the
    listing starts at the first asked and stops after the last (4 pages, not 7)."""
    settings = seaweed.settings(BUCKET, prefix=f"held-{secrets.token_hex(4)}/")
    async with S3Store(settings, session=aio_session, page_size=3) as store:
        mixes = [f"2026/12/02/1764.{n:02d}.wav" for n in range(20)]
        source = tmp_path / "sealed"
        source.write_bytes(b"CREC")
        await _put_all(store, source, [storage_key(relative) for relative in mixes])
        sent = counted_requests(store.client)
        offsite = Offsite(store=store, outbox=tmp_path / "outbox")

        assert await held_offsite(offsite, mixes[5:15]) == set(mixes[5:15])
        assert sent == {"ListObjectsV2": 4}
