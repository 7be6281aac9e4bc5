"""The retention purge: files deleted, rows reduced, in batches, safe to kill and rerun."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from callrec_ari.agent_legs import AgentLeg
from callrec_ari.db.models import Call, CallCorrection
from callrec_ari.db.repository import agent_legs_of
from callrec_ari.errors import DatabaseError
from callrec_ari.lifecycle import purge as purge_module
from callrec_ari.lifecycle.due import count_due, iter_due
from callrec_ari.lifecycle.purge import run_purge
from callrec_ari.records import RecordingStatus
from tests.db.records import T0
from tests.lifecycle.conftest import (
    NOW,
    POLICIES,
    file_of,
    marker_of,
    recorded,
    row,
    set_columns,
    store,
)


async def purge(session_factory, recordings: Path, **options):
    """Run the purge at NOW with the test policies."""
    options.setdefault("now", NOW)
    return await run_purge(
        session_factory, recordings_dir=recordings, retention=POLICIES, **options
    )


async def test_due_calls_lose_their_files_and_personal_data(session_factory, recordings):
    """An expired call's WAV and marker go; its row keeps only statistics; others stay."""
    old = recorded("1.1", recordings)
    young = recorded("1.2", recordings, policy="months-6")
    ids = await store(session_factory, old, young)
    async with session_factory() as session, session.begin():
        session.add(
            CallCorrection(
                call_id=ids["1.1"],
                field="agent",
                old_value="agent100",
                new_value="agent200",
                changed_by="dpo",
                changed_at=T0,
                reason="typo",
            )
        )

    report = await purge(session_factory, recordings)

    assert (report.reduced, report.by_retention, report.files_deleted) == (1, 1, 1)
    assert (report.files_missing, report.refused, report.unknown_policy) == (0, 0, 0)
    assert not file_of(recordings, old).exists()
    assert not marker_of(recordings, old).exists()
    assert file_of(recordings, young).exists()
    reduced = await row(session_factory, "1.1")
    assert (reduced.caller_number, reduced.caller_e164, reduced.agent) == (None, None, None)
    assert (reduced.recording_path, reduced.sha256, reduced.size_bytes) == (None, None, None)
    assert (reduced.purged_at, reduced.purge_reason) == (NOW, "retention")
    assert reduced.recording_status == "deleted"
    assert reduced.duration_seconds == old.duration_seconds  # statistics stay
    assert reduced.delete_after == old.delete_after
    kept = await row(session_factory, "1.2")
    assert kept.caller_number == young.caller_number
    assert kept.purged_at is None
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(CallCorrection)) == 0


async def test_a_second_run_finds_nothing_to_do(session_factory, recordings):
    """Purging is idempotent: reduced rows are never touched again."""
    await store(session_factory, recorded("2.1", recordings))
    assert (await purge(session_factory, recordings)).reduced == 1
    again = await purge(session_factory, recordings, now=NOW + timedelta(days=1))
    assert (again.reduced, again.files_deleted, again.files_missing) == (0, 0, 0)
    assert (await row(session_factory, "2.1")).purged_at == NOW


async def test_a_call_is_due_exactly_at_its_delete_after(session_factory, recordings):
    """The deletion date itself counts as due; a microsecond before does not."""
    call = recorded("3.1", recordings)
    await store(session_factory, call)
    assert call.delete_after is not None
    early = await purge(
        session_factory, recordings, now=call.delete_after - timedelta(microseconds=1)
    )
    assert early.reduced == 0
    assert (await purge(session_factory, recordings, now=call.delete_after)).reduced == 1


async def test_dry_run_changes_nothing_and_says_what_would_go(session_factory, recordings):
    """A dry run lists the due calls and counts them, and every file and row stays."""
    due = recorded("4.1", recordings)
    gone_by_hand = recorded("4.2", recordings)
    file_of(recordings, gone_by_hand).unlink()
    await store(session_factory, due, gone_by_hand, recorded("4.3", recordings, policy="months-6"))

    report = await purge(session_factory, recordings, dry_run=True)
    listed = [
        call.uniqueid
        async for batch in iter_due(session_factory, retention=POLICIES, now=NOW)
        for call in batch
    ]

    assert report.dry_run
    assert (report.reduced, report.files_deleted, report.files_missing) == (2, 1, 1)
    assert listed == ["4.1", "4.2"]
    assert file_of(recordings, due).exists()
    assert (await row(session_factory, "4.1")).purged_at is None
    assert await count_due(session_factory, retention=POLICIES, now=NOW) == 2


async def test_a_file_deleted_by_hand_is_counted_missing_not_an_error(session_factory, recordings):
    """The row of a recording someone already removed is reduced all the same."""
    call = recorded("5.1", recordings)
    file_of(recordings, call).unlink()
    await store(session_factory, call)
    report = await purge(session_factory, recordings)
    assert (report.reduced, report.files_deleted, report.files_missing) == (1, 0, 1)
    assert (await row(session_factory, "5.1")).recording_path is None


async def test_a_purge_killed_half_way_is_finished_by_the_next_run(
    session_factory, recordings, monkeypatch
):
    """Files deleted before a failed commit are counted missing next time; no row dangles."""
    calls = [recorded(f"6.{n}", recordings) for n in range(7)]
    await store(session_factory, *calls)
    real_reduce = purge_module.reduce_calls
    batches = 0

    async def crash_on_second_batch(*args, **kwargs):
        nonlocal batches
        batches += 1
        done = await real_reduce(*args, **kwargs)  # files are deleted here...
        if batches == 2:
            raise RuntimeError("killed")  # ...and the commit never happens
        return done

    monkeypatch.setattr(purge_module, "reduce_calls", crash_on_second_batch)
    with pytest.raises(RuntimeError, match="killed"):
        await purge(session_factory, recordings, batch_size=3)
    monkeypatch.setattr(purge_module, "reduce_calls", real_reduce)
    assert sum(not file_of(recordings, call).exists() for call in calls) == 6
    assert sum([(await row(session_factory, c.uniqueid)).purged_at is not None for c in calls]) == 3

    report = await purge(session_factory, recordings, batch_size=3)

    assert (report.reduced, report.files_deleted, report.files_missing) == (4, 1, 3)
    assert not any(file_of(recordings, call).exists() for call in calls)
    async with session_factory() as session:
        dangling = await session.scalar(
            select(func.count()).select_from(Call).where(Call.recording_path.is_not(None))
        )
    assert dangling == 0


async def test_a_database_failure_is_one_clear_error(session_factory, recordings, monkeypatch):
    """A statement the database refuses stops the purge with a DatabaseError naming it."""
    await store(session_factory, recorded("7.1", recordings))

    async def refuse(*_args, **_kwargs):
        from sqlalchemy.exc import OperationalError  # noqa: PLC0415

        raise OperationalError("UPDATE calls", {}, Exception("disk I/O error"))

    monkeypatch.setattr(purge_module, "reduce_calls", refuse)
    with pytest.raises(DatabaseError, match=r"The purge stopped .*disk I/O error.*run it again"):
        await purge(session_factory, recordings)
    assert (await row(session_factory, "7.1")).purged_at is None


@pytest.mark.parametrize("bad_path", ["../../etc/passwd", "/etc/passwd", "2026/../../outside.wav"])
async def test_a_path_outside_the_recordings_folder_is_refused_and_left_alone(
    session_factory, recordings, bad_path
):
    """A row pointing outside the folder is never followed; the rest are purged."""
    outside = recordings.parent / "outside.wav"
    outside.write_bytes(b"not a recording")
    await store(session_factory, recorded("8.1", recordings), recorded("8.2", None))
    await set_columns(session_factory, "8.2", recording_path=bad_path)

    report = await purge(session_factory, recordings)

    assert (report.reduced, report.refused) == (1, 1)
    assert [(r.uniqueid, r.recording_path) for r in report.refused_calls] == [("8.2", bad_path)]
    assert outside.exists()
    untouched = await row(session_factory, "8.2")
    assert (untouched.recording_path, untouched.purged_at) == (bad_path, None)
    assert untouched.caller_number is not None
    assert (await row(session_factory, "8.1")).purged_at == NOW


async def test_an_unknown_policy_is_reported_and_its_rows_left_alone(session_factory, recordings):
    """Rows without a date under a policy no longer configured are counted, never guessed at."""
    legacy = recorded("9.1", recordings, policy="years-10", delete_after=None)
    await store(session_factory, legacy, recorded("9.2", recordings))

    report = await purge(session_factory, recordings)

    assert report.reduced == 1
    assert report.unknown_policy == 1
    assert report.unknown_policies == {"years-10": 1}
    assert file_of(recordings, legacy).exists()
    assert (await row(session_factory, "9.1")).purged_at is None


async def test_rows_without_a_date_get_one_from_their_policy(session_factory, recordings):
    """Rows stored before dates were kept are purged by their policy and keep the date."""
    expired = recorded("10.1", recordings, delete_after=None)
    young = recorded("10.2", recordings, policy="months-6", delete_after=None)
    await store(session_factory, expired, young)

    dry = await purge(session_factory, recordings, dry_run=True)
    assert (dry.reduced, dry.dates_filled) == (1, 0)
    report = await purge(session_factory, recordings)

    assert (report.reduced, report.dates_filled) == (1, 2)
    assert (await row(session_factory, "10.1")).delete_after == T0 + timedelta(days=7)
    kept = await row(session_factory, "10.2")
    assert (kept.delete_after, kept.purged_at) == (T0 + timedelta(days=183), None)


async def test_a_pending_erasure_goes_once_the_recording_has_finished(session_factory, recordings):
    """An erasure waiting for its call to end is carried out, as erasure, not retention."""
    waiting = recorded("11.1", recordings, policy="months-6")
    recording = recorded(
        "11.2", recordings, policy="months-6", recording_status=RecordingStatus.RECORDING
    )
    await store(session_factory, waiting, recording)
    for uniqueid in ("11.1", "11.2"):
        await set_columns(session_factory, uniqueid, erasure_requested_at=T0)

    report = await purge(session_factory, recordings)

    assert (report.reduced, report.by_erasure, report.by_retention) == (1, 1, 0)
    assert (await row(session_factory, "11.1")).purge_reason == "erasure"
    assert (await row(session_factory, "11.2")).purged_at is None
    assert file_of(recordings, recording).exists()


async def test_a_backlog_is_purged_in_batches_with_progress(session_factory, recordings):
    """No batch is larger than asked for; progress adds up to every due call."""
    await store(session_factory, *[recorded(f"12.{n}", recordings) for n in range(11)])
    steps: list[int] = []

    report = await purge(session_factory, recordings, batch_size=4, on_progress=steps.append)

    assert report.reduced == 11
    assert steps == [4, 4, 3]


async def test_only_the_calls_asked_for_are_purged(session_factory, recordings):
    """only_call_ids limits the purge (releasing a hold uses it), still only to due calls."""
    ids = await store(
        session_factory,
        recorded("13.1", recordings),
        recorded("13.2", recordings),
        recorded("13.3", recordings, policy="months-6"),
    )
    report = await purge(session_factory, recordings, only_call_ids=[ids["13.1"], ids["13.3"]])
    assert report.reduced == 1
    assert (await row(session_factory, "13.1")).purged_at == NOW
    assert (await row(session_factory, "13.2")).purged_at is None
    assert (await row(session_factory, "13.3")).purged_at is None


async def test_calls_without_a_recording_are_reduced_too(session_factory, recordings):
    """A declined call has no file but a caller number: it is reduced and keeps status none."""
    await store(
        session_factory,
        recorded("14.1", None, recording_path=None, recording_status=RecordingStatus.NONE),
    )
    report = await purge(session_factory, recordings)
    assert (report.reduced, report.files_deleted, report.files_missing) == (1, 0, 0)
    reduced = await row(session_factory, "14.1")
    assert (reduced.caller_number, reduced.recording_status) == (None, "none")


async def test_a_purged_call_keeps_none_of_its_agents(session_factory, recordings):
    """A transferred call's agent legs go with the row's agent; the young call's stay, and
    a snapshot replayed from the journal afterwards brings none back."""
    leg = AgentLeg(agent="agent101", channel_id="9.9", joined_at=T0)
    old = dataclasses.replace(recorded("3.1", recordings), agent_legs=(leg,))
    young = dataclasses.replace(
        recorded("3.2", recordings, policy="months-6"),
        agent_legs=(dataclasses.replace(leg, channel_id="9.8"),),
    )
    await store(session_factory, old, young)

    assert (await purge(session_factory, recordings)).reduced == 1
    await store(session_factory, old)

    async with session_factory() as session:
        legs = await agent_legs_of(session, ["3.1", "3.2"])
    assert set(legs) == {"3.2"}
