"""Orphans in the object store: recordings no row knows, removed once older than the longest
retention, like the recordings folder's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from callrec_ari.lifecycle.orphan_objects import sweep_orphan_objects
from callrec_ari.storage.recordings import Offsite, recording_keys
from tests.lifecycle.conftest import recorded, store

KEEP_DAYS = 7


async def _put(offsite: Offsite, source: Path, *keys: str) -> None:
    for key in keys:
        await offsite.store.put(key, source)


async def _keys(offsite: Offsite) -> list[str]:
    return sorted([info.key async for info in offsite.store.objects()])


async def test_objects_no_row_knows_go_once_old_and_known_ones_stay(
    session_factory, offsite: Offsite, tmp_path: Path
):
    """A row's recording stays; an orphan (mix and a leg, and a leg still in the outbox) is
    reported but kept while young, and removed everywhere once past the longest retention;
    an object that is no recording's is left alone."""
    known = recorded("9.1", None)
    await store(session_factory, known)
    assert known.recording_path is not None
    orphan = "2026/11/02/9.2.wav"
    source = tmp_path / "sealed"
    source.write_bytes(b"CREC" * 100)
    mix_key, caller_key, agent_key = recording_keys(orphan)
    await _put(offsite, source, *recording_keys(known.recording_path), mix_key, caller_key)
    await _put(offsite, source, ".callrec-check-probe", "notes/readme.txt")
    offsite.outbox.mkdir()
    offsite.outbox_file(agent_key).write_bytes(b"CREC")
    seen = []

    young = await sweep_orphan_objects(
        session_factory,
        offsite,
        now=datetime.now(UTC),
        keep_days=KEEP_DAYS,
        remove=True,
        on_orphan=seen.append,
    )
    assert (young.orphans, young.removable, young.removed) == (1, 0, 0)
    assert [o.relative_path for o in seen] == [orphan]
    assert seen[0].files == ("9.2.caller.wav.enc", "9.2.wav.enc")
    assert seen[0].size_bytes == 800
    assert len(await _keys(offsite)) == 7

    old = await sweep_orphan_objects(
        session_factory,
        offsite,
        now=datetime.now(UTC) + timedelta(days=KEEP_DAYS + 1),
        keep_days=KEEP_DAYS,
        remove=True,
    )
    assert (old.days, old.recordings, old.orphans, old.removed) == (2, 2, 1, 1)
    assert old.bytes_removed == 800
    assert await _keys(offsite) == sorted(
        [*recording_keys(known.recording_path), ".callrec-check-probe", "notes/readme.txt"]
    )
    assert list(offsite.outbox.iterdir()) == []


async def test_without_remove_nothing_goes(session_factory, offsite: Offsite, tmp_path: Path):
    """A look (no --remove) reports an old orphan as removable and deletes nothing."""
    source = tmp_path / "sealed"
    source.write_bytes(b"CREC")
    await _put(offsite, source, "2026/11/03/9.3.wav.enc")
    report = await sweep_orphan_objects(
        session_factory,
        offsite,
        now=datetime.now(UTC) + timedelta(days=KEEP_DAYS + 1),
        keep_days=KEEP_DAYS,
    )
    assert (report.orphans, report.removable, report.removed) == (1, 1, 0)
    assert await _keys(offsite) == ["2026/11/03/9.3.wav.enc"]
