"""Finding a number's calls: every spelling, newest first, page by page, and what else names it."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from callrec_ari.errors import InputError, NumberError
from callrec_ari.rights.deadlines import Deadlines
from callrec_ari.rights.donotrecord import add
from callrec_ari.rights.lookup import find_calls, find_everything
from callrec_ari.rights.rectify import rectify
from callrec_ari.rights.requests import open_request
from tests.db.records import finished, ringing
from tests.rights.conftest import DPO, NOW, NUMBER, OTHER, REGION, place_hold, unrecorded


async def test_a_number_is_found_however_it_is_typed(session_factory, store):
    """+48…, 0048…, 48… and the national 22… form all find the same calls."""
    await store(unrecorded("c1"), unrecorded("c2", minutes=5))
    async with session_factory() as session:
        for typed in ("+48221234567", "0048221234567", "48 22 123 45 67", "221234567"):
            page = await find_calls(session, typed, region=REGION, now=NOW)
            assert page.number == NUMBER
            assert [call.uniqueid for call in page.calls] == ["c2", "c1"]


async def test_other_numbers_calls_are_not_found(session_factory, store):
    """Only the number asked for: another caller's calls stay out."""
    await store(
        unrecorded("mine"), unrecorded("theirs", caller_number="48229876543", caller_e164=OTHER)
    )
    async with session_factory() as session:
        page = await find_calls(session, NUMBER, region=REGION, now=NOW)
    assert [call.uniqueid for call in page.calls] == ["mine"]


async def test_rows_without_a_normalised_number_are_found_by_spelling(session_factory, store):
    """Rows stored before normalisation: 0048…, 48… and national spellings match exactly."""
    old = [
        unrecorded("intl", minutes=1, caller_number="0048221234567", caller_e164=None),
        unrecorded("bare", minutes=2, caller_number="48221234567", caller_e164=None),
        unrecorded("national", minutes=3, caller_number="221234567", caller_e164=None),
        unrecorded("new", minutes=4),
        unrecorded("lookalike", minutes=5, caller_number="4822123456", caller_e164=None),
    ]
    await store(*old)
    async with session_factory() as session:
        page = await find_calls(session, "+48 22 123 45 67", region=REGION, now=NOW)
    assert [call.uniqueid for call in page.calls] == ["new", "national", "bare", "intl"]


async def test_a_foreign_number_matches_no_national_spelling(session_factory, store):
    """A Finnish number's national digits are some Polish subscriber's; they do not match."""
    finnish = "+358401234567"
    await store(
        unrecorded("fi", caller_number="358401234567", caller_e164=None),
        unrecorded("pl", minutes=1, caller_number="401234567", caller_e164=None),
    )
    async with session_factory() as session:
        page = await find_calls(session, finnish, region=REGION, now=NOW)
    assert [call.uniqueid for call in page.calls] == ["fi"]


async def test_pages_follow_each_other_without_gaps_or_repeats(session_factory, store):
    """Seven calls, three per page, two of them at the same instant: 3 + 3 + 1, newest first."""
    calls = [unrecorded(f"c{i}", minutes=i) for i in range(6)]
    same_time = dataclasses.replace(unrecorded("c6", minutes=5), caller_e164=None)
    await store(*calls, same_time)
    seen: list[str] = []
    cursor = None
    async with session_factory() as session:
        for _ in range(3):
            page = await find_calls(session, NUMBER, region=REGION, now=NOW, limit=3, after=cursor)
            seen += [call.uniqueid for call in page.calls]
            cursor = page.next_cursor
    assert cursor is None
    assert sorted(seen) == sorted(f"c{i}" for i in range(7))
    assert len(seen) == 7
    assert seen[0] in {"c5", "c6"}
    assert seen[-1] == "c0"


async def test_held_calls_say_so_until_the_hold_ends(session_factory, store):
    """The hold's case reference shows in the results while the hold is active."""
    await store(unrecorded("held"), unrecorded("free", minutes=1))
    await place_hold(session_factory, "CASE-7", ["held"], ends_at=NOW + timedelta(days=30))
    async with session_factory() as session:
        page = await find_calls(session, NUMBER, region=REGION, now=NOW)
        after_hold = await find_calls(session, NUMBER, region=REGION, now=NOW + timedelta(days=400))
    assert {c.uniqueid: c.legal_holds for c in page.calls} == {"held": ("CASE-7",), "free": ()}
    assert all(not c.legal_holds for c in after_hold.calls)


@pytest.mark.parametrize("typed", ["", "abc", "+48 22 123 45 67 ext. 5", "12", "+999123"])
async def test_an_unknown_number_format_is_one_clear_error(session_factory, typed):
    """Text that is no phone number at all, or no valid one."""
    async with session_factory() as session:
        with pytest.raises(NumberError, match="Phone number"):
            await find_calls(session, typed, region=REGION, now=NOW)


@pytest.mark.parametrize("cursor", ["garbage", "2026-11-24T09:30:00~x", "2026-11-24T09:30:00~5"])
async def test_a_forged_cursor_is_refused(session_factory, cursor):
    """A cursor this service did not give out (a naive time included) is an input error."""
    async with session_factory() as session:
        with pytest.raises(InputError, match="cursor"):
            await find_calls(session, NUMBER, region=REGION, now=NOW, after=cursor)


@pytest.mark.parametrize("limit", [0, -1, 501])
async def test_a_page_size_out_of_range_is_refused(session_factory, limit):
    """Pages hold 1 to 500 calls."""
    async with session_factory() as session:
        with pytest.raises(InputError, match="Page size"):
            await find_calls(session, NUMBER, region=REGION, now=NOW, limit=limit)


async def test_everything_names_requests_the_list_and_corrections(session_factory, store):
    """Requests, the do-not-record entry and a correction away from the number are found."""
    await store(unrecorded("mine"), unrecorded("fixed", minutes=2))
    async with session_factory() as session, session.begin():
        await open_request(
            session,
            kind="access",
            number=NUMBER,
            requester="Jan",
            actor=DPO,
            now=NOW,
            region=REGION,
            deadlines=Deadlines(),
        )
        await add(session, NUMBER, reason="objected", actor=DPO, now=NOW, region=REGION)
        await rectify(
            session,
            "fixed",
            field="caller_number",
            value="+48229876543",
            reason="trunk sent the wrong number",
            actor=DPO,
            now=NOW,
            region=REGION,
        )
    async with session_factory() as session:
        found = await find_everything(session, "221234567", region=REGION, now=NOW)
    assert [c.uniqueid for c in found.calls.calls] == ["mine"]
    assert [r.kind for r in found.requests] == ["access"]
    assert found.do_not_record_since == NOW
    assert [(c.uniqueid, c.old_value, c.new_value) for c in found.corrections] == [
        ("fixed", "48221234567", "+48229876543")
    ]
    document = found.to_json()
    assert document["calls"][0]["caller_e164"] == NUMBER
    assert document["do_not_record_since"] == NOW.isoformat()


async def test_a_number_with_nothing_stored_finds_nothing(session_factory, store):
    """No calls, no requests: empty results, not an error."""
    await store(finished(ringing("someone-else", caller_number="48229876543", caller_e164=OTHER)))
    async with session_factory() as session:
        found = await find_everything(session, NUMBER, region=REGION, now=NOW)
    assert found.calls.calls == ()
    assert found.calls.next_cursor is None
    assert found.requests == ()
