"""The retention purge with object storage: recordings only the store holds, many at a time."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from callrec_ari.db.models import Call
from callrec_ari.lifecycle.purge import run_purge
from callrec_ari.storage.recordings import Offsite, recording_keys
from callrec_ari.storage.s3 import S3Store
from tests.lifecycle.conftest import NOW, POLICIES, recorded, store
from tests.support.seaweedfs import counted_requests


async def test_a_backlog_in_the_store_costs_a_few_requests_a_batch_not_one_an_object(
    session_factory, recordings: Path, offsite: Offsite, s3_store: S3Store, tmp_path: Path
):
    """Sixty recordings of one day, only in the store, purged in batches of 25: every object
    goes and each is counted deleted, with one listing per batch and its keys deleted by
    batch (spread over the four requests that run at once), where a lookup per recording
    took sixty requests more."""
    records = [recorded(f"1764.{n}", None) for n in range(60)]
    await store(session_factory, *records)
    source = tmp_path / "sealed"
    source.write_bytes(b"CREC")
    keys = [key for r in records if r.recording_path for key in recording_keys(r.recording_path)]
    await asyncio.gather(*(s3_store.put(key, source) for key in keys))
    sent = counted_requests(s3_store.client)

    report = await run_purge(
        session_factory,
        recordings_dir=recordings,
        retention=POLICIES,
        now=NOW,
        batch_size=25,
        offsite=offsite,
    )

    assert (report.reduced, report.files_deleted, report.files_missing) == (60, 60, 0)
    assert sent == {"ListObjectsV2": 3, "DeleteObjects": 3 * 4}
    assert [info async for info in s3_store.objects()] == []
    async with session_factory() as session:
        left = select(func.count()).where(Call.recording_path.is_not(None))
        assert await session.scalar(left) == 0
