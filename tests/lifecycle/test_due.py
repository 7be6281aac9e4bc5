"""Counting the calls past their retention date, for the metrics (lifecycle/due.py)."""

from __future__ import annotations

from datetime import timedelta

from callrec_ari.lifecycle.due import count_overdue
from callrec_ari.lifecycle.holds import HoldRequest, hold_calls
from callrec_ari.lifecycle.purge import run_purge
from tests.db.records import T0
from tests.lifecycle.conftest import NOW, POLICIES, recorded, set_columns, store


async def overdue(session_factory, now=NOW) -> int:
    async with session_factory() as session:
        return await count_overdue(session, retention=POLICIES, now=now)


async def test_only_calls_the_purge_would_delete_count(session_factory, recordings):
    """Past their date count (an old row without a date too, by its policy); calls still in
    their retention, held, restricted or already purged do not; after a purge none are left."""
    await store(
        session_factory,
        recorded("41.1", recordings),
        recorded("41.2", recordings, delete_after=None),
        recorded("41.3", recordings, policy="months-6"),
        recorded("41.4", recordings),
        recorded("41.5", recordings),
        recorded("41.6", recordings),
    )
    await hold_calls(
        session_factory,
        HoldRequest(case_reference="PR-2026/7", reason="police inquiry", placed_by="dpo"),
        ["41.4"],
        now=T0 + timedelta(days=1),
    )
    await set_columns(session_factory, "41.5", restricted_at=NOW - timedelta(days=1))
    await set_columns(session_factory, "41.6", purged_at=NOW - timedelta(days=1))

    assert await overdue(session_factory, now=T0 + timedelta(days=6)) == 0
    assert await overdue(session_factory) == 2
    await run_purge(session_factory, recordings_dir=recordings, retention=POLICIES, now=NOW)
    assert await overdue(session_factory) == 0
