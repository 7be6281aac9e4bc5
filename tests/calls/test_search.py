"""Searching calls: each filter, keyset pages, who finds what, and the audit entry per search."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from callrec_ari.access import Actor, Role
from callrec_ari.calls.search import SearchFilters, parse_filters, search_calls, view_call_for
from callrec_ari.db.repository import upsert_calls
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError, NumberError
from callrec_ari.records import Consent, RecordingStatus
from tests.calls.conftest import (
    ADMIN,
    AGENT,
    CLIENT,
    OTHER_AGENT,
    SUPERVISOR,
    audit,
    set_call,
    snapshot,
)
from tests.db.records import T0
from tests.rights.conftest import DPO, NOW, OTHER, REGION, place_hold, recorded, unrecorded


async def _search(session_factory, actor=SUPERVISOR, *, page_size=50, cursor=None, **filters):
    async with session_factory() as session, session.begin():
        return await search_calls(
            session,
            actor=actor,
            filters=SearchFilters(**filters),
            region=REGION,
            page_size=page_size,
            cursor=cursor,
            now=NOW,
            client=CLIENT,
        )


async def _ids(session_factory, actor=SUPERVISOR, **filters):
    page = await _search(session_factory, actor, **filters)
    return [call.uniqueid for call in page.calls]


async def test_newest_first_with_what_the_page_shows(session_factory, store, recordings):
    """A recorded call is playable; an unrecorded one not; the caller is the E.164 number."""
    await store(recorded(recordings, "rec", minutes=1), unrecorded("plain"))
    page = await _search(session_factory)
    assert [call.uniqueid for call in page.calls] == ["rec", "plain"]
    assert page.next_cursor is None
    rec, plain = page.calls
    assert (rec.caller, rec.agent, rec.consent) == ("+48221234567", "agent100", Consent.GIVEN)
    assert rec.recording_status is RecordingStatus.COMPLETE
    assert (rec.playable, rec.held, rec.restricted) == (True, False, False)
    assert rec.started_at == T0 + timedelta(minutes=1)
    assert plain.playable is False


async def test_time_range_includes_since_and_excludes_until(session_factory, store):
    """``since`` <= started_at < ``until``."""
    await store(*(unrecorded(f"c{m}", minutes=m) for m in range(5)))
    ids = await _ids(
        session_factory, since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=3)
    )
    assert ids == ["c2", "c1"]


async def test_number_finds_every_spelling_and_no_other_caller(session_factory, store):
    """Typed nationally, the number finds normalised rows and old rows stored as received."""
    await store(
        unrecorded("new"),
        unrecorded("old", minutes=1, caller_number="0048221234567", caller_e164=None),
        unrecorded("other", minutes=2, caller_number="48229876543", caller_e164=OTHER),
    )
    assert await _ids(session_factory, number="22 123 45 67") == ["old", "new"]
    assert await _ids(session_factory, number=OTHER) == ["other"]


async def test_an_unreadable_number_is_an_input_error(session_factory, store):
    """Letters are not a number; nothing is audited."""
    await store(unrecorded("c1"))
    with pytest.raises(NumberError):
        await _search(session_factory, number="call me")
    assert await audit(session_factory) == []


async def test_agent_consent_and_held_filters(session_factory, store):
    """Each filter alone, then together."""
    await store(
        unrecorded("a1"),
        unrecorded("a2", minutes=1, agent="agent200"),
        unrecorded("d1", minutes=2, consent=Consent.DECLINED, agent=None),
        unrecorded("h1", minutes=3),
    )
    await place_hold(session_factory, "case-1", ["h1", "a2"])
    await place_hold(session_factory, "ended", ["a1"], ends_at=NOW - timedelta(hours=1))
    assert await _ids(session_factory, agent="agent200") == ["a2"]
    assert await _ids(session_factory, consent=Consent.DECLINED) == ["d1"]
    assert await _ids(session_factory, held=True) == ["h1", "a2"]
    assert await _ids(session_factory, held=False) == ["d1", "a1"]
    assert await _ids(session_factory, agent="agent100", held=True) == ["h1"]
    page = await _search(session_factory, held=True)
    assert all(call.held for call in page.calls)


async def test_pages_cover_every_call_once_even_with_equal_start_times(session_factory, store):
    """23 calls, several starting at the same instant, read 5 at a time: no gap, no repeat."""
    records = [unrecorded(f"c{i:02d}", minutes=i // 3) for i in range(23)]
    await store(*records)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await _search(session_factory, page_size=5, cursor=cursor)
        pages += 1
        seen += [call.uniqueid for call in page.calls]
        if page.next_cursor is None:
            break
        assert len(page.calls) == 5
        cursor = page.next_cursor
    assert pages == 5
    assert len(seen) == len(set(seen)) == 23
    starts = {r.uniqueid: r.started_at for r in records}
    assert [starts[u] for u in seen] == sorted(starts.values(), reverse=True)
    entries = await audit(session_factory)
    assert [json.loads(e.detail)["continued"] for e in entries] == [False] + [True] * 4


async def test_a_full_last_page_has_no_next_cursor(session_factory, store):
    """Exactly one page of calls: the page does not promise another."""
    await store(*(unrecorded(f"c{i}", minutes=i) for i in range(3)))
    page = await _search(session_factory, page_size=3)
    assert (len(page.calls), page.next_cursor) == (3, None)


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        base64.urlsafe_b64encode(b"soon.1").decode(),
        base64.urlsafe_b64encode(b"99999999999999999999.1").decode(),
        "A" * 200,
    ],
)
async def test_a_cursor_this_service_did_not_give_out_is_refused(session_factory, store, cursor):
    """One plain sentence, nothing audited."""
    await store(unrecorded("c1"))
    with pytest.raises(InputError, match=r"^The page cursor is invalid\.$"):
        await _search(session_factory, cursor=cursor)
    assert await audit(session_factory) == []


async def test_an_agent_finds_only_calls_they_answered(session_factory, store):
    """Even asking for another agent by name or by their number finds nothing."""
    await store(
        unrecorded("mine"),
        unrecorded("theirs", minutes=1, agent="agent200", caller_e164=OTHER),
    )
    assert await _ids(session_factory, AGENT) == ["mine"]
    assert await _ids(session_factory, OTHER_AGENT) == ["theirs"]
    assert await _ids(session_factory, AGENT, agent="agent200") == []
    assert await _ids(session_factory, AGENT, number=OTHER) == []
    assert await _ids(session_factory, Actor.of("new", Role.AGENT)) == []


async def test_an_agents_pages_are_full(session_factory, store):
    """Isolation is in the query: an agent's page is not a filtered page of everyone's."""
    await store(
        *(unrecorded(f"m{i}", minutes=2 * i) for i in range(4)),
        *(unrecorded(f"t{i}", minutes=2 * i + 1, agent="agent200") for i in range(4)),
    )
    page = await _search(session_factory, AGENT, page_size=3)
    assert [call.uniqueid for call in page.calls] == ["m3", "m2", "m1"]
    rest = await _search(session_factory, AGENT, page_size=3, cursor=page.next_cursor)
    assert ([call.uniqueid for call in rest.calls], rest.next_cursor) == (["m0"], None)


async def test_someone_without_a_role_may_not_search(session_factory, store):
    """ForbiddenError, and no audit entry."""
    await store(unrecorded("c1"))
    with pytest.raises(ForbiddenError):
        await _search(session_factory, Actor.of("nobody"))
    assert await audit(session_factory) == []


async def test_each_search_is_audited_with_the_number_masked(session_factory, store):
    """Actor, client, filters and result count; the number only by its last three digits."""
    await store(unrecorded("c1"), unrecorded("c2", minutes=1))
    await _search(
        session_factory, AGENT, number="+48 221 234 567", consent=Consent.GIVEN, held=False
    )
    (entry,) = await audit(session_factory)
    assert (entry.actor, entry.action, entry.target, entry.client, entry.at) == (
        "agent-piotr",
        "search",
        None,
        CLIENT,
        NOW,
    )
    assert json.loads(entry.detail) == {
        "filters": {"number": "*********567", "consent": "given", "held": False},
        "continued": False,
        "results": 2,
    }
    assert "221234" not in entry.detail


async def test_bad_filters_and_page_sizes_are_refused(session_factory, store):
    """Since not before until, a naive time, a page size out of range: nothing audited."""
    await store(unrecorded("c1"))
    before = await snapshot(session_factory)
    with pytest.raises(InputError, match="not before"):
        await _search(session_factory, since=T0, until=T0)
    with pytest.raises(InputError, match="no timezone"):
        await _search(session_factory, since=datetime(2026, 11, 24))  # noqa: DTZ001 - on purpose
    with pytest.raises(InputError, match="page size"):
        await _search(session_factory, page_size=0)
    assert await snapshot(session_factory) == before


def test_filters_from_a_query_string():
    """Dates are whole UTC days, the number is normalised, blanks and unknown keys ignored."""
    filters = parse_filters(
        {
            "since": "2026-11-24",
            "until": "2026-11-25",
            "number": "0048 22 123 45 67",
            "agent": " agent100 ",
            "consent": "DECLINED",
            "held": "yes",
            "cursor": "ignored",
        },
        region=REGION,
    )
    assert filters == SearchFilters(
        since=datetime(2026, 11, 24, tzinfo=UTC),
        until=datetime(2026, 11, 26, tzinfo=UTC),
        number="+48221234567",
        agent="agent100",
        consent=Consent.DECLINED,
        held=True,
    )
    assert parse_filters({"since": "", "held": " "}, region=REGION) == SearchFilters()
    assert parse_filters({"held": "no"}, region=REGION).held is False
    moment = parse_filters({"since": "2026-11-24T10:00"}, region=REGION).since
    assert moment == datetime(2026, 11, 24, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"number": "abc"}, "Phone number"),
        ({"consent": "maybe"}, "consent"),
        ({"held": "perhaps"}, "held"),
        ({"since": "2026-11-25", "until": "2026-11-24"}, "since"),
        ({"agent": "x" * 129}, "agent"),
    ],
)
def test_unreadable_filters_name_their_field(raw, field):
    """Every refusal says which field is wrong."""
    with pytest.raises(InputError, match=field):
        parse_filters(raw, region=REGION)


async def test_get_call_shows_a_call_to_whom_may_see_it(session_factory, store, recordings):
    """The agent who answered and every see-all role; held as of ``now``."""
    await store(recorded(recordings, "c1"))
    await place_hold(session_factory, "case", ["c1"])
    async with session_factory() as session:
        for actor in (AGENT, SUPERVISOR, ADMIN):
            view = await view_call_for(session, actor=actor, uniqueid="c1", now=NOW)
            assert (view.uniqueid, view.held) == ("c1", True)
        view = await view_call_for(session, actor=ADMIN, uniqueid="c1", now=NOW)
        assert view.playable is False  # metadata only
        later = NOW + timedelta(days=1)
        assert (await view_call_for(session, actor=AGENT, uniqueid="c1", now=later)).held


async def test_another_agents_call_is_as_missing_as_a_call_that_does_not_exist(
    session_factory, store
):
    """The same error, the same words: existence does not leak."""
    await store(unrecorded("theirs", agent="agent200"))
    async with session_factory() as session:
        with pytest.raises(NotFoundError) as other:
            await view_call_for(session, actor=AGENT, uniqueid="theirs")
        with pytest.raises(NotFoundError) as missing:
            await view_call_for(session, actor=AGENT, uniqueid="nothing")
    assert str(other.value) == str(missing.value).replace("nothing", "theirs")


async def test_a_restricted_call_is_shown_but_only_the_dpo_may_play_it(
    session_factory, store, recordings
):
    """``restricted`` set; ``playable`` false for the supervisor, true for the dpo."""
    await store(recorded(recordings, "c1"))
    await set_call(session_factory, "c1", restricted_at=NOW, restricted_by="dpo-anna")
    page = await _search(session_factory)
    assert (page.calls[0].restricted, page.calls[0].playable) == (True, False)
    page = await _search(session_factory, DPO)
    assert page.calls[0].playable is True


async def test_the_admin_finds_every_call_but_may_play_none(session_factory, store, recordings):
    """Metadata for troubleshooting, never audio."""
    await store(recorded(recordings, "c1"), unrecorded("c2", minutes=1, agent="agent200"))
    page = await _search(session_factory, ADMIN)
    assert [(call.uniqueid, call.playable) for call in page.calls] == [
        ("c2", False),
        ("c1", False),
    ]


async def test_the_node_filter_finds_the_calls_one_pbx_recorded(session_factory):
    """Several nodes share one database: a search by node lists only that node's calls."""
    async with session_factory() as session, session.begin():
        await upsert_calls(session, [unrecorded("pbx-a-1.1")], node="pbx-a")
        await upsert_calls(session, [unrecorded("pbx-b-1.1", minutes=1)], node="pbx-b")
    page = await _search(session_factory, node="pbx-b")
    assert [(call.uniqueid, call.node) for call in page.calls] == [("pbx-b-1.1", "pbx-b")]
    both = await _search(session_factory)
    assert {call.node for call in both.calls} == {"pbx-a", "pbx-b"}


def test_a_node_that_is_no_node_name_is_an_input_error():
    """The node filter takes only what ``[service] node`` may be."""
    with pytest.raises(InputError, match="is not a node name"):
        parse_filters({"node": "a b"}, region=REGION)
