"""Requests: opened with a deadline, listed overdue first, extended once, closed once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from callrec_ari.db.models import AuditEntry, DsrAction
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError, NumberError
from callrec_ari.rights.deadlines import Deadlines
from callrec_ari.rights.requests import (
    close_request,
    extend_request,
    list_requests,
    open_request,
    show_request,
)
from tests.rights.conftest import AGENT, DPO, NOW, NUMBER, OTHER, REGION, snapshot

RULES = Deadlines()


async def new(session_factory, *, received=None, kind="access", number=NUMBER, requester="Jan"):
    async with session_factory() as session, session.begin():
        view = await open_request(
            session,
            kind=kind,
            number=number,
            requester=requester,
            actor=DPO,
            now=NOW,
            region=REGION,
            deadlines=RULES,
            received=received,
        )
    return view.id


async def test_a_new_request_is_due_thirty_days_after_receipt(session_factory):
    """The number is normalised; the deadline counts from the day it arrived, not from today."""
    received = datetime(2026, 11, 20, tzinfo=UTC)
    request_id = await new(session_factory, received=received, number="0048 22 123 45 67")
    async with session_factory() as session:
        detail = await show_request(session, request_id, actor=DPO, now=NOW)
    assert detail.request.number == NUMBER
    assert detail.request.status == "open"
    assert detail.request.due_at == datetime(2026, 12, 20, 23, 59, 59, tzinfo=UTC)
    assert detail.request.days_left == 19
    assert detail.request.created_by == "dpo-anna"
    assert [action.action for action in detail.actions] == ["opened"]


async def test_the_list_shows_overdue_requests_first_then_by_deadline(session_factory):
    """Two overdue requests (oldest first), then the open ones by due date; closed ones hidden."""
    soon = await new(session_factory, received=NOW - timedelta(days=25))
    late = await new(session_factory, received=NOW - timedelta(days=31))
    later = await new(session_factory, received=NOW - timedelta(days=5))
    very_late = await new(session_factory, received=NOW - timedelta(days=40))
    closed = await new(session_factory, received=NOW - timedelta(days=50))
    async with session_factory() as session, session.begin():
        await close_request(session, closed, note="answered by letter", actor=DPO, now=NOW)
    async with session_factory() as session:
        shown = await list_requests(session, actor=DPO, now=NOW)
        everything = await list_requests(session, actor=DPO, now=NOW, include_closed=True)
    assert [r.id for r in shown] == [very_late, late, soon, later]
    assert [r.overdue for r in shown] == [True, True, False, False]
    assert [r.id for r in everything] == [very_late, late, soon, later, closed]
    assert not everything[-1].overdue


async def test_a_request_becomes_overdue_as_the_clock_moves(session_factory):
    """The same request, listed on its deadline and a day after it."""
    request_id = await new(session_factory, received=NOW - timedelta(days=10))
    async with session_factory() as session:
        on_time = await list_requests(session, actor=DPO, now=NOW + timedelta(days=20))
        late = await list_requests(session, actor=DPO, now=NOW + timedelta(days=21))
    assert (on_time[0].id, on_time[0].overdue) == (request_id, False)
    assert (late[0].overdue, late[0].days_left) == (True, -1)


async def test_a_deadline_is_extended_once_by_sixty_days_with_a_reason(session_factory):
    """The new deadline, the reason and who decided are kept; a second extension is refused."""
    request_id = await new(session_factory, received=NOW - timedelta(days=10))
    async with session_factory() as session, session.begin():
        view = await extend_request(
            session,
            request_id,
            reason="many calls to review",
            actor=DPO,
            now=NOW,
            deadlines=RULES,
        )
    assert view.due_at.date() == (NOW - timedelta(days=10) + timedelta(days=90)).date()
    assert view.extension_reason == "many calls to review"
    before = await snapshot(session_factory)
    async with session_factory() as session, session.begin():
        with pytest.raises(InputError, match="already extended"):
            await extend_request(
                session, request_id, reason="again", actor=DPO, now=NOW, deadlines=RULES
            )
    assert await snapshot(session_factory) == before
    async with session_factory() as session:
        detail = await show_request(session, request_id, actor=DPO, now=NOW)
    extended = detail.actions[-1]
    assert extended.action == "extended"
    assert extended.detail["reason"] == "many calls to review"


@pytest.mark.parametrize("reason", ["", "   "])
async def test_an_extension_without_a_reason_is_refused(session_factory, reason):
    """Seed 004: the person must be told why; no reason, no extension."""
    request_id = await new(session_factory)
    before = await snapshot(session_factory)
    async with session_factory() as session, session.begin():
        with pytest.raises(InputError, match="reason for the extension is empty"):
            await extend_request(
                session, request_id, reason=reason, actor=DPO, now=NOW, deadlines=RULES
            )
    assert await snapshot(session_factory) == before


async def test_an_overdue_request_can_no_longer_be_extended(session_factory):
    """The extension must be told to the person within the first period."""
    request_id = await new(session_factory, received=NOW - timedelta(days=31))
    async with session_factory() as session, session.begin():
        with pytest.raises(InputError, match="overdue"):
            await extend_request(
                session, request_id, reason="late", actor=DPO, now=NOW, deadlines=RULES
            )


async def test_a_request_is_closed_once(session_factory):
    """Closed as rejected with the reasons; closing again is refused and changes nothing."""
    request_id = await new(session_factory)
    async with session_factory() as session, session.begin():
        view = await close_request(
            session,
            request_id,
            note="no calls from this number",
            actor=DPO,
            now=NOW,
            rejected=True,
        )
    assert (view.status, view.closed_at, view.notes) == (
        "rejected",
        NOW,
        "no calls from this number",
    )
    before = await snapshot(session_factory)
    async with session_factory() as session, session.begin():
        with pytest.raises(InputError, match="already closed"):
            await close_request(session, request_id, note="again", actor=DPO, now=NOW)
        with pytest.raises(InputError, match="closed"):
            await extend_request(
                session, request_id, reason="x", actor=DPO, now=NOW, deadlines=RULES
            )
    assert await snapshot(session_factory) == before


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"requester": ""}, InputError, "requester is empty"),
        ({"requester": "  "}, InputError, "requester is empty"),
        ({"requester": "x" * 300}, InputError, "longer than 256"),
        ({"kind": "complaint"}, InputError, "kind 'complaint' is unknown"),
        ({"kind": ""}, InputError, "unknown"),
        ({"number": "call me"}, NumberError, "not a phone number"),
        ({"number": "12"}, NumberError, "not a valid number"),
        ({"number": ""}, NumberError, "not a phone number"),
        ({"received": NOW + timedelta(days=2)}, InputError, "in the future"),
        ({"received": datetime(2026, 11, 2)}, InputError, "no timezone"),  # noqa: DTZ001
    ],
)
async def test_a_malformed_request_is_refused_and_nothing_is_stored(
    session_factory, changes, error, message
):
    """Each bad field gives one clear error; no request and no action row appear."""
    fields = {"kind": "erasure", "number": NUMBER, "requester": "Jan", "received": None}
    fields.update(changes)
    async with session_factory() as session, session.begin():
        with pytest.raises(error, match=message):
            await open_request(
                session, actor=DPO, now=NOW, region=REGION, deadlines=RULES, **fields
            )
    assert all(not rows for rows in (await snapshot(session_factory)).values())


async def test_unknown_request_ids_are_not_found(session_factory):
    """Show, extend and close name the missing request."""
    async with session_factory() as session, session.begin():
        with pytest.raises(NotFoundError, match="Request 42 does not exist"):
            await show_request(session, 42, actor=DPO, now=NOW)
        with pytest.raises(NotFoundError, match="Request 42"):
            await extend_request(session, 42, reason="x", actor=DPO, now=NOW, deadlines=RULES)
        with pytest.raises(NotFoundError, match="Request 42"):
            await close_request(session, 42, note="x", actor=DPO, now=NOW)


async def test_only_the_dpo_handles_requests(session_factory):
    """An agent can neither open nor read requests."""
    async with session_factory() as session, session.begin():
        with pytest.raises(ForbiddenError, match="agent-piotr"):
            await open_request(
                session,
                kind="access",
                number=OTHER,
                requester="x",
                actor=AGENT,
                now=NOW,
                region=REGION,
                deadlines=RULES,
            )
        with pytest.raises(ForbiddenError):
            await list_requests(session, actor=AGENT, now=NOW)
    async with session_factory() as session:
        assert (await session.scalars(select(DsrAction))).all() == []


async def test_every_step_is_an_action_row(session_factory):
    """Opened, extended and done: who, when and the details, as JSON."""
    request_id = await new(session_factory)
    async with session_factory() as session, session.begin():
        await extend_request(
            session, request_id, reason="busy", actor=DPO, now=NOW, deadlines=RULES
        )
        await close_request(session, request_id, note="sent", actor=DPO, now=NOW)
    async with session_factory() as session:
        rows = (await session.scalars(select(DsrAction).order_by(DsrAction.id))).all()
    assert [(r.action, r.actor, r.request_id) for r in rows] == [
        ("opened", "dpo-anna", request_id),
        ("extended", "dpo-anna", request_id),
        ("done", "dpo-anna", request_id),
    ]
    assert json.loads(rows[-1].detail) == {"note": "sent", "overdue": False}


async def test_reading_the_register_is_in_the_audit_trail(session_factory):
    """The register names people's numbers: listing it and opening a request are logged,
    with who, when and from where, and only once the reading is committed."""
    request_id = await new(session_factory)
    async with session_factory() as session, session.begin():
        await list_requests(session, actor=DPO, now=NOW, include_closed=True, client="10.0.0.7")
        await show_request(session, request_id, actor=DPO, now=NOW, client="10.0.0.7")
    async with session_factory() as session:
        rows = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.in_(["dsr.list", "dsr.read"]))
                .order_by(AuditEntry.seq)
            )
        ).all()
    assert [(r.action, r.actor, r.target, r.client) for r in rows] == [
        ("dsr.list", "dpo-anna", None, "10.0.0.7"),
        ("dsr.read", "dpo-anna", f"request:{request_id}", "10.0.0.7"),
    ]
    assert json.loads(rows[0].detail) == {"include_closed": True, "results": 1}
