"""Legal holds: held calls survive the purge until the last hold is released or ends."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from callrec_ari.db.models import AuditEntry, LegalHold, LegalHoldCall
from callrec_ari.errors import InputError, NotFoundError, NumberError
from callrec_ari.lifecycle.holds import (
    HoldRequest,
    hold_calls,
    hold_number,
    holds_of_call,
    list_holds,
    release_hold,
)
from callrec_ari.lifecycle.purge import run_purge
from tests.db.records import T0
from tests.lifecycle.conftest import NOW, POLICIES, file_of, recorded, row, set_columns, store

REQUEST = HoldRequest(case_reference="PR-2026/114", reason="police inquiry", placed_by="dpo")
# The hold is placed a week after the calls, before the 7-day ones are purged.
PLACED = T0 + timedelta(days=6)
DAY = timedelta(days=1)


async def purge(session_factory, recordings: Path, now=NOW):
    """Run the purge with the test policies."""
    return await run_purge(session_factory, recordings_dir=recordings, retention=POLICIES, now=now)


async def release(session_factory, recordings: Path, hold_id: int, now=NOW):
    """Release a hold as the DPO."""
    return await release_hold(
        session_factory,
        hold_id,
        released_by="dpo",
        reason="case closed",
        now=now,
        recordings_dir=recordings,
        retention=POLICIES,
    )


async def holds_stored(session_factory) -> tuple[int, int]:
    """How many holds and hold-call links the database has."""
    async with session_factory() as session:
        holds = await session.scalar(select(func.count()).select_from(LegalHold))
        links = await session.scalar(select(func.count()).select_from(LegalHoldCall))
    return holds or 0, links or 0


async def test_a_held_call_survives_the_purge(session_factory, recordings):
    """The held call keeps its file and row; the other expired call goes."""
    held = recorded("1.1", recordings)
    await store(session_factory, held, recorded("1.2", recordings))

    hold = await hold_calls(session_factory, REQUEST, ["1.1"], now=PLACED)
    report = await purge(session_factory, recordings)

    assert (hold.calls, hold.active, hold.case_reference, hold.placed_by) == (
        1,
        True,
        "PR-2026/114",
        "dpo",
    )
    assert hold.placed_at == PLACED
    assert report.reduced == 1
    assert file_of(recordings, held).exists()
    assert (await row(session_factory, "1.1")).purged_at is None
    assert (await row(session_factory, "1.2")).purged_at == NOW


async def test_releasing_the_hold_of_an_overdue_call_purges_it_at_once(session_factory, recordings):
    """No waiting for the next scheduled purge: the release itself deletes what is overdue."""
    held = recorded("2.1", recordings)
    await store(session_factory, held)
    hold = await hold_calls(session_factory, REQUEST, ["2.1"], now=PLACED)
    await purge(session_factory, recordings)

    released = await release(session_factory, recordings, hold.id)

    assert (released.still_held, released.purged.reduced, released.purged.files_deleted) == (
        0,
        1,
        1,
    )
    assert (released.hold.released_by, released.hold.release_reason) == ("dpo", "case closed")
    assert released.hold.released_at == NOW
    assert not released.hold.active
    assert not file_of(recordings, held).exists()
    assert (await row(session_factory, "2.1")).purge_reason == "retention"


async def test_a_released_call_not_yet_due_keeps_its_original_date(session_factory, recordings):
    """Releasing early changes nothing about the call's own retention."""
    call = recorded("3.1", recordings, policy="months-6")
    await store(session_factory, call)
    hold = await hold_calls(session_factory, REQUEST, ["3.1"], now=PLACED)

    released = await release(session_factory, recordings, hold.id)

    assert released.purged.reduced == 0
    assert file_of(recordings, call).exists()
    assert call.delete_after is not None
    assert (await purge(session_factory, recordings, now=call.delete_after)).reduced == 1


async def test_one_hold_of_two_released_keeps_the_call(session_factory, recordings):
    """Deletion resumes only when the last hold on a call is released."""
    call = recorded("4.1", recordings)
    await store(session_factory, call)
    first = await hold_calls(session_factory, REQUEST, ["4.1"], now=PLACED)
    second = await hold_calls(
        session_factory,
        HoldRequest(case_reference="TAX-7", reason="audit", placed_by="legal"),
        ["4.1"],
        now=PLACED,
    )

    released = await release(session_factory, recordings, first.id)
    assert (released.still_held, released.purged.reduced) == (1, 0)
    assert (await purge(session_factory, recordings)).reduced == 0
    assert file_of(recordings, call).exists()

    assert (await release(session_factory, recordings, second.id)).purged.reduced == 1
    assert not file_of(recordings, call).exists()


async def test_a_hold_with_an_end_date_stops_protecting_after_it(session_factory, recordings):
    """Until its end date the call stays; after it the next purge takes it."""
    call = recorded("5.1", recordings)
    await store(session_factory, call)
    ends = NOW + timedelta(days=10)
    request = HoldRequest(case_reference="C-1", reason="dispute", placed_by="dpo", ends_at=ends)
    hold = await hold_calls(session_factory, request, ["5.1"], now=PLACED)

    assert hold.ends_at == ends
    assert (await purge(session_factory, recordings, now=ends - timedelta(seconds=1))).reduced == 0
    assert [h.id for h in await list_holds(session_factory, now=ends)] == []
    assert (await purge(session_factory, recordings, now=ends)).reduced == 1
    assert not file_of(recordings, call).exists()


async def test_a_hold_blocks_a_pending_erasure_until_released(session_factory, recordings):
    """An erasure waits for the hold; releasing it erases the call at once, as erasure."""
    call = recorded("6.1", recordings, policy="months-6")
    await store(session_factory, call)
    hold = await hold_calls(session_factory, REQUEST, ["6.1"], now=PLACED)
    await set_columns(session_factory, "6.1", erasure_requested_at=PLACED)

    assert (await purge(session_factory, recordings)).reduced == 0
    released = await release(session_factory, recordings, hold.id)

    assert (released.purged.reduced, released.purged.by_erasure) == (1, 1)
    assert (await row(session_factory, "6.1")).purge_reason == "erasure"


async def test_a_number_and_period_hold_covers_exactly_those_calls(session_factory, recordings):
    """Every call from the number in [from, to) is held, however the number is typed."""
    other = {"caller_number": "48227654321", "caller_e164": "+48227654321"}
    await store(
        session_factory,
        recorded("7.1", recordings, start=T0),
        recorded("7.2", recordings, start=T0 + timedelta(hours=1)),
        recorded("7.3", recordings, start=T0 + timedelta(days=1)),  # after the period
        recorded("7.4", recordings, start=T0, **other),  # another number
    )

    hold = await hold_number(
        session_factory,
        REQUEST,
        "22 123 45 67",  # national format, read in region PL
        period_from=T0,
        period_to=T0 + timedelta(days=1),
        region="PL",
        now=PLACED,
    )
    await purge(session_factory, recordings)

    assert (hold.calls, hold.number_e164) == (2, "+48221234567")
    assert (hold.period_from, hold.period_to) == (T0, T0 + timedelta(days=1))
    kept = [
        u for u in ("7.1", "7.2", "7.3", "7.4") if (await row(session_factory, u)).purged_at is None
    ]
    assert kept == ["7.1", "7.2"]


async def test_holds_are_listed_active_or_all_and_per_call(session_factory, recordings):
    """Listing shows active holds by default, every hold with include_inactive, per call too."""
    await store(session_factory, recorded("8.1", recordings), recorded("8.2", recordings))
    first = await hold_calls(session_factory, REQUEST, ["8.1", "8.2"], now=PLACED)
    second = await hold_calls(session_factory, REQUEST, ["8.2"], now=PLACED)
    await release(session_factory, recordings, first.id, now=PLACED + timedelta(hours=1))

    active = await list_holds(session_factory, now=PLACED + timedelta(hours=2))
    every = await list_holds(session_factory, now=PLACED, include_inactive=True)
    of_call = await holds_of_call(session_factory, "8.2", now=PLACED + timedelta(hours=2))

    assert [h.id for h in active] == [second.id]
    assert [(h.id, h.calls) for h in every] == [(first.id, 2), (second.id, 1)]
    assert [(h.id, h.active) for h in of_call] == [(first.id, False), (second.id, True)]
    with pytest.raises(NotFoundError, match=r"'no\.such'"):
        await holds_of_call(session_factory, "no.such", now=PLACED)


@pytest.mark.parametrize(
    ("request_", "uniqueids", "expected"),
    [
        (REQUEST, ["9.1", "no.such"], (NotFoundError, r"uniqueid 'no\.such'")),
        (REQUEST, [], (InputError, "at least one call")),
        (REQUEST, ["  "], (InputError, "at least one call")),
        (HoldRequest(case_reference=" ", reason="r", placed_by="dpo"), ["9.1"],
         (InputError, "case reference is empty")),
        (HoldRequest(case_reference="C", reason="", placed_by="dpo"), ["9.1"],
         (InputError, "reason is empty")),
        (HoldRequest(case_reference="C" * 129, reason="r", placed_by="dpo"), ["9.1"],
         (InputError, "longer than 128")),
        (HoldRequest(case_reference="C", reason="r", placed_by="dpo", ends_at=PLACED), ["9.1"],
         (InputError, "end date .* is not in the future")),
    ],
)  # fmt: skip
async def test_bad_hold_requests_are_refused_and_store_nothing(
    session_factory, recordings, request_, uniqueids, expected
):
    """Unknown calls, empty selections, a missing case or reason, a past end: one clear error."""
    await store(session_factory, recorded("9.1", recordings))
    error, message = expected
    with pytest.raises(error, match=message):
        await hold_calls(session_factory, request_, uniqueids, now=PLACED)
    assert await holds_stored(session_factory) == (0, 0)


async def test_a_call_already_deleted_cannot_be_held(session_factory, recordings):
    """Holding a purged call would promise evidence that no longer exists."""
    await store(session_factory, recorded("10.1", recordings), recorded("10.2", recordings))
    await purge(session_factory, recordings)
    with pytest.raises(InputError, match=r"'10\.1', '10\.2' was already deleted"):
        await hold_calls(session_factory, REQUEST, ["10.1", "10.2"], now=NOW)
    assert await holds_stored(session_factory) == (0, 0)


@pytest.mark.parametrize(
    ("number", "period", "expected"),
    [
        ("call me maybe", (T0, T0 + DAY), (NumberError, "is not a phone number")),
        ("+99912", (T0, T0 + DAY), (NumberError, "not a valid number")),
        ("+48221234567", (T0 + DAY, T0), (InputError, "is not before its end")),
        ("+48229999999", (T0, T0 + DAY), (NotFoundError, r"No stored call from \+48")),
        ("+48221234567", (T0 - 9 * DAY, T0), (NotFoundError, "no hold was placed")),
    ],
)
async def test_bad_number_holds_are_refused_and_store_nothing(
    session_factory, recordings, number, period, expected
):
    """A bad number, a backwards period or a period without calls: one clear error."""
    await store(session_factory, recorded("11.1", recordings))
    (start, end), (error, message) = period, expected
    with pytest.raises(error, match=message):
        await hold_number(
            session_factory,
            REQUEST,
            number,
            period_from=start,
            period_to=end,
            region="PL",
            now=PLACED,
        )
    assert await holds_stored(session_factory) == (0, 0)


async def test_releasing_twice_or_an_unknown_hold_is_refused(session_factory, recordings):
    """A hold is released once; the second release names who released it and when."""
    await store(session_factory, recorded("12.1", recordings))
    hold = await hold_calls(session_factory, REQUEST, ["12.1"], now=PLACED)
    await release(session_factory, recordings, hold.id)
    with pytest.raises(InputError, match=f"Hold {hold.id} was already released on .* by dpo"):
        await release(session_factory, recordings, hold.id)
    with pytest.raises(NotFoundError, match="Hold 999 does not exist"):
        await release(session_factory, recordings, 999)


async def test_a_release_needs_a_reason(session_factory, recordings):
    """An empty release reason is refused and the hold stays active."""
    await store(session_factory, recorded("13.1", recordings))
    hold = await hold_calls(session_factory, REQUEST, ["13.1"], now=PLACED)
    with pytest.raises(InputError, match="release reason is empty"):
        await release_hold(
            session_factory,
            hold.id,
            released_by="dpo",
            reason=" ",
            now=NOW,
            recordings_dir=recordings,
            retention=POLICIES,
        )
    assert [h.id for h in await list_holds(session_factory, now=NOW)] == [hold.id]


async def test_placing_and_releasing_a_hold_is_in_the_audit_trail(session_factory, recordings):
    """Who held which calls for which case, and who released them: in the hash chain."""
    await store(session_factory, recorded("h1", recordings))
    hold = await hold_calls(session_factory, REQUEST, ["h1"], now=PLACED)
    await release(session_factory, recordings, hold.id)
    async with session_factory() as session:
        entries = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("dpo", "hold.place", f"hold:{hold.id}"),
        ("dpo", "hold.release", f"hold:{hold.id}"),
    ]
    assert json.loads(entries[0].detail)["case"] == "PR-2026/114"
    assert json.loads(entries[0].detail)["calls"] == ["h1"]


async def test_a_refused_hold_leaves_no_audit_entry(session_factory):
    """Nothing was held, so nothing is claimed in the trail."""
    with pytest.raises(NotFoundError):
        await hold_calls(session_factory, REQUEST, ["nope"], now=PLACED)
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0
