"""GDPR Art. 18: a restricted call is kept past its deletion date, reported, and purged once
the restriction is lifted (issue 12 §3)."""

from __future__ import annotations

from datetime import timedelta

from callrec_ari.lifecycle.purge import run_purge
from callrec_ari.lifecycle.report_query import read_report
from callrec_ari.rights.restrict import lift_call, restrict_call
from tests.lifecycle.conftest import NOW, POLICIES, file_of, recorded, row, set_columns, store
from tests.rights.conftest import DPO


async def purge(session_factory, recordings, **options):
    """Run the purge at NOW with the test policies."""
    return await run_purge(
        session_factory, recordings_dir=recordings, retention=POLICIES, now=NOW, **options
    )


async def test_a_restricted_call_past_its_date_is_kept_and_reported(session_factory, recordings):
    """The restricted call keeps its file and number; the purge says it kept it; the retention
    report does not count it as overdue; the unrestricted one beside it goes as before."""
    restricted = recorded("31.1", recordings)
    plain = recorded("31.2", recordings)
    await store(session_factory, restricted, plain)
    async with session_factory() as session, session.begin():
        await restrict_call(
            session, "31.1", reason="the caller contests the agent's notes", actor=DPO, now=NOW
        )

    report = await purge(session_factory, recordings)

    assert (report.reduced, report.kept_restricted) == (1, 1)
    assert file_of(recordings, restricted).exists()
    kept = await row(session_factory, "31.1")
    assert kept.purged_at is None
    assert kept.caller_number == restricted.caller_number
    assert (await row(session_factory, "31.2")).purged_at == NOW
    dry = await purge(session_factory, recordings, dry_run=True)
    assert (dry.reduced, dry.kept_restricted) == (0, 1)
    summary = await read_report(
        session_factory,
        retention=POLICIES,
        now=NOW + timedelta(days=30),
        grace=timedelta(hours=2),
        actor="dpo-anna",
    )
    assert summary.overdue_calls == 0
    assert [call.uniqueid for call in summary.restricted] == ["31.1"]


async def test_lifting_the_restriction_lets_the_purge_take_the_call(session_factory, recordings):
    """Once lifted, a call whose date has passed goes at the next purge, file and number."""
    call = recorded("32.1", recordings)
    await store(session_factory, call)
    async with session_factory() as session, session.begin():
        await restrict_call(session, "32.1", reason="objection under review", actor=DPO, now=NOW)
    assert (await purge(session_factory, recordings)).reduced == 0
    async with session_factory() as session, session.begin():
        await lift_call(session, "32.1", reason="objection decided", actor=DPO, now=NOW)

    report = await purge(session_factory, recordings)

    assert (report.reduced, report.kept_restricted) == (1, 0)
    assert not file_of(recordings, call).exists()
    reduced = await row(session_factory, "32.1")
    assert (reduced.purged_at, reduced.caller_number) == (NOW, None)


async def test_an_erasure_the_data_subject_asked_for_still_goes_through(
    session_factory, recordings
):
    """The restriction protects the caller's data from deletion by retention, not from their
    own erasure request: a pending erasure takes the call, restricted or not."""
    call = recorded("33.1", recordings)
    await store(session_factory, call)
    async with session_factory() as session, session.begin():
        await restrict_call(session, "33.1", reason="accuracy contested", actor=DPO, now=NOW)
    await set_columns(session_factory, "33.1", erasure_requested_at=NOW - timedelta(hours=1))

    report = await purge(session_factory, recordings)

    assert (report.reduced, report.by_erasure, report.kept_restricted) == (1, 1, 0)
    assert not file_of(recordings, call).exists()
