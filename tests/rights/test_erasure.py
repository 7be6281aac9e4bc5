"""Erasure and consent withdrawal: files gone, rows anonymised, held calls kept and marked."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from callrec_ari.db.models import AuditEntry, Call, DsrAction
from callrec_ari.db.repository import upsert_calls
from callrec_ari.errors import (
    ForbiddenError,
    InputError,
    NotFoundError,
    NumberError,
    RecordingError,
)
from callrec_ari.records import RecordingStatus
from callrec_ari.rights import donotrecord
from callrec_ari.rights.deadlines import Deadlines
from callrec_ari.rights.erasure import LEGAL_HOLD, STILL_RECORDING, erase_number
from callrec_ari.rights.lookup import find_calls
from callrec_ari.rights.rectify import rectify
from callrec_ari.rights.requests import close_request, open_request
from tests.db.records import ringing
from tests.rights.conftest import (
    AGENT,
    DPO,
    NOW,
    NUMBER,
    OTHER,
    REGION,
    call_row,
    files,
    place_hold,
    recorded,
    snapshot,
)


async def erase(session_factory, recordings, number=NUMBER, **options):
    async with session_factory() as session, session.begin():
        return await erase_number(
            session, recordings, number, actor=DPO, now=NOW, region=REGION, **options
        )


async def request_for(session_factory, number=NUMBER, kind="withdrawal"):
    async with session_factory() as session, session.begin():
        view = await open_request(
            session,
            kind=kind,
            number=number,
            requester="Jan Kowalski",
            actor=DPO,
            now=NOW,
            region=REGION,
            deadlines=Deadlines(),
        )
    return view.id


async def test_erasure_deletes_the_recordings_and_anonymises_the_rows(
    session_factory, store, recordings
):
    """Both calls' files are gone; the rows keep only statistics; another caller is untouched."""
    mine = [recorded(recordings, "a1"), recorded(recordings, "a2", minutes=3)]
    theirs = recorded(recordings, "b1", number="48229876543", e164=OTHER)
    await store(*mine, theirs)
    request_id = await request_for(session_factory)

    result = await erase(session_factory, recordings, "0048221234567", request_id=request_id)

    assert set(result.erased) == {"a1", "a2"}
    assert (result.files_deleted, result.files_missing, result.pending) == (2, 0, ())
    assert list(files(recordings)) == [theirs.recording_path]
    for uniqueid in ("a1", "a2"):
        row = await call_row(session_factory, uniqueid)
        assert (row.caller_number, row.caller_e164, row.agent, row.recording_path) == (
            None,
            None,
            None,
            None,
        )
        assert (row.sha256, row.size_bytes, row.recording_status) == (None, None, "deleted")
        assert (row.purged_at, row.purge_reason) == (NOW, "erasure")
        assert (row.erasure_requested_at, row.erasure_request_id) == (NOW, request_id)
        assert row.consent == "given"  # statistics stay
    other = await call_row(session_factory, "b1")
    assert (other.caller_e164, other.purged_at) == (OTHER, None)
    async with session_factory() as session:
        assert (await find_calls(session, NUMBER, region=REGION, now=NOW)).calls == ()
        action = (
            await session.scalars(select(DsrAction).where(DsrAction.action == "erased"))
        ).one()
    assert action.request_id == request_id
    assert json.loads(action.detail)["files_deleted"] == 2


async def test_a_held_call_is_kept_reported_and_marked_for_later(
    session_factory, store, recordings
):
    """The held call stays with its file and number, names its case, and waits for the purge."""
    await store(recorded(recordings, "held"), recorded(recordings, "free", minutes=1))
    await place_hold(session_factory, "POLICE-2026-17", ["held"])

    result = await erase(session_factory, recordings)

    assert result.erased == ("free",)
    assert [(p.uniqueid, p.why, p.cases) for p in result.pending] == [
        ("held", LEGAL_HOLD, ("POLICE-2026-17",))
    ]
    held = await call_row(session_factory, "held")
    assert (held.caller_e164, held.purged_at, held.erasure_requested_at) == (NUMBER, None, NOW)
    assert held.recording_path in files(recordings)
    assert (await call_row(session_factory, "free")).purged_at == NOW


async def test_a_call_still_recording_waits_for_its_file(session_factory, store, recordings):
    """A call whose recording is still being written is marked, not reduced under MixMonitor."""
    live = dataclasses.replace(
        ringing("live", caller_number="48221234567"),
        recording_status=RecordingStatus.RECORDING,
        recording_path="2026/11/24/live.wav",
    )
    await store(live)
    result = await erase(session_factory, recordings)
    assert result.erased == ()
    assert [(p.uniqueid, p.why) for p in result.pending] == [("live", STILL_RECORDING)]
    row = await call_row(session_factory, "live")
    assert (row.erasure_requested_at, row.purged_at, row.caller_e164) == (NOW, None, NUMBER)


async def test_erasing_again_after_the_hold_ended_finishes_the_job(
    session_factory, store, recordings
):
    """The pending erasure is remembered: once the hold has ended, the call goes too."""
    await store(recorded(recordings, "held"))
    await place_hold(session_factory, "CASE-1", ["held"], ends_at=NOW + timedelta(days=10))
    first = await erase(session_factory, recordings)
    assert first.pending
    async with session_factory() as session, session.begin():
        later = await erase_number(
            session, recordings, NUMBER, actor=DPO, now=NOW + timedelta(days=11), region=REGION
        )
    assert later.erased == ("held",)
    row = await call_row(session_factory, "held")
    assert row.erasure_requested_at == NOW  # the first request's date is kept
    assert files(recordings) == {}


async def test_a_snapshot_arriving_after_the_erasure_does_not_bring_the_number_back(
    session_factory, store, recordings
):
    """A replayed snapshot of an erased call (journal, writer retry) leaves the row anonymous."""
    record = recorded(recordings, "a1")
    await store(record)
    await erase(session_factory, recordings)
    async with session_factory() as session, session.begin():
        await upsert_calls(session, [record])
    row = await call_row(session_factory, "a1")
    assert (row.caller_number, row.caller_e164, row.recording_path) == (None, None, None)
    async with session_factory() as session:
        assert (await find_calls(session, NUMBER, region=REGION, now=NOW)).calls == ()


async def test_a_snapshot_of_a_held_call_keeps_its_pending_erasure(
    session_factory, store, recordings
):
    """The writer storing the held call again does not make the purge forget it."""
    record = recorded(recordings, "held")
    await store(record)
    await place_hold(session_factory, "CASE-9", ["held"])
    await erase(session_factory, recordings)
    await store(dataclasses.replace(record, duration_seconds=1.5))
    row = await call_row(session_factory, "held")
    assert (row.erasure_requested_at, row.duration_seconds) == (NOW, 1.5)


async def test_rows_stored_without_a_normalised_number_are_erased_too(
    session_factory, store, recordings
):
    """An old row holding only 0048… is the same person's call."""
    await store(recorded(recordings, "old", number="0048221234567", e164=None))
    result = await erase(session_factory, recordings)
    assert result.erased == ("old",)
    assert (await call_row(session_factory, "old")).caller_number is None


async def test_corrections_go_with_the_call(session_factory, store, recordings):
    """A correction holds the old values: erasure deletes it with the call."""
    await store(recorded(recordings, "a1"))
    async with session_factory() as session, session.begin():
        await rectify(
            session,
            "a1",
            field="agent",
            value="agent200",
            reason="wrong agent",
            actor=DPO,
            now=NOW,
            region=REGION,
        )
    await erase(session_factory, recordings)
    state = await snapshot(session_factory)
    assert state["call_corrections"] == []


async def test_missing_and_truncated_recordings_do_not_stop_the_erasure(
    session_factory, store, recordings
):
    """A file already gone counts as missing; a damaged one is deleted like any other."""
    gone, damaged = recorded(recordings, "gone"), recorded(recordings, "damaged", minutes=1)
    await store(gone, damaged)
    (recordings / gone.recording_path).unlink()
    damaged_path = recordings / damaged.recording_path
    damaged_path.write_bytes(damaged_path.read_bytes()[:100])
    result = await erase(session_factory, recordings)
    assert (result.files_deleted, result.files_missing) == (1, 1)
    assert files(recordings) == {}


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "2026/../../outside.wav"])
async def test_a_path_outside_the_recordings_folder_stops_everything(
    session_factory, store, recordings, tmp_path, path
):
    """The bad path is never followed; no file is deleted and no row changes."""
    outside = tmp_path / "outside.wav"
    outside.write_bytes(b"not ours")
    await store(recorded(recordings, "good"), recorded(recordings, "bad", minutes=1))
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Call).where(Call.uniqueid == "bad").values(recording_path=path)
        )
    before, kept = await snapshot(session_factory), files(recordings)
    async with session_factory() as session, session.begin():  # committed: no partial writes
        with pytest.raises(RecordingError, match="outside the recordings folder"):
            await erase_number(session, recordings, NUMBER, actor=DPO, now=NOW, region=REGION)
    assert await snapshot(session_factory) == before
    assert files(recordings) == kept
    assert outside.read_bytes() == b"not ours"


async def test_do_not_record_puts_the_number_on_the_list(session_factory, store, recordings):
    """The running service's refresh (numbers()) sees the number afterwards."""
    await store(recorded(recordings, "a1"))
    result = await erase(session_factory, recordings, do_not_record=True, reason="withdrew consent")
    assert result.do_not_record
    async with session_factory() as session:
        assert await donotrecord.numbers(session) == frozenset({NUMBER})
        entries = await donotrecord.entries(session)
    assert entries[0].reason == "withdrew consent"


async def test_a_number_with_no_calls_is_still_answered(session_factory, recordings):
    """Nothing to erase is a valid outcome; the action is recorded all the same."""
    result = await erase(session_factory, recordings)
    assert (result.erased, result.pending) == ((), ())
    state = await snapshot(session_factory)
    assert len(state["dsr_actions"]) == 1


BAD_INPUT = {
    "not a number": ("not-a-number", None, NumberError, "not a phone number"),
    "too short": ("+4812", None, NumberError, "not a valid number"),
    "unknown request": (NUMBER, 99, NotFoundError, "Request 99 does not exist"),
    "another number's request": (NUMBER, "other", InputError, r"is about \+48229876543"),
    "closed request": (NUMBER, "closed", InputError, "is closed"),
}


@pytest.mark.parametrize("case", BAD_INPUT.values(), ids=BAD_INPUT.keys())
async def test_bad_input_erases_nothing(session_factory, store, recordings, case):
    """A bad number, an unknown request, another number's request or a closed one."""
    number, request_id, error, message = case
    await store(recorded(recordings, "a1"))
    if request_id == "other":
        request_id = await request_for(session_factory, OTHER)
    elif request_id == "closed":
        request_id = await request_for(session_factory)
        async with session_factory() as session, session.begin():
            await close_request(session, request_id, note="done", actor=DPO, now=NOW)
    before, kept = await snapshot(session_factory), files(recordings)
    async with session_factory() as session, session.begin():  # committed: no partial writes
        with pytest.raises(error, match=message):
            await erase_number(
                session,
                recordings,
                number,
                actor=DPO,
                now=NOW,
                region=REGION,
                request_id=request_id,
            )
    assert await snapshot(session_factory) == before
    assert files(recordings) == kept


async def test_only_the_dpo_erases(session_factory, store, recordings):
    """An agent is refused before anything is read or deleted."""
    await store(recorded(recordings, "a1"))
    async with session_factory() as session, session.begin():
        with pytest.raises(ForbiddenError, match="may not erase"):
            await erase_number(session, recordings, NUMBER, actor=AGENT, now=NOW, region=REGION)
    assert len(files(recordings)) == 1


async def test_an_erasure_is_in_the_audit_trail_without_the_number(
    session_factory, store, recordings
):
    """The trail says who erased what, under which request; only the number's last digits."""
    await store(recorded(recordings, "a1"))
    request_id = await request_for(session_factory)
    await erase(session_factory, recordings, request_id=request_id)
    async with session_factory() as session:
        entries = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("dpo-anna", "dsr.opened", f"request:{request_id}"),
        ("dpo-anna", "dsr.erased", f"request:{request_id}"),
    ]
    assert NUMBER not in entries[1].detail
    assert NUMBER[-3:] in entries[1].detail
