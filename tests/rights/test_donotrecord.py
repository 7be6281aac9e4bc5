"""The do-not-record list: added with a reason, read by the call path, removed again."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from callrec_ari.db.models import AuditEntry
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError, NumberError
from callrec_ari.rights import donotrecord
from callrec_ari.rights.deadlines import Deadlines
from callrec_ari.rights.requests import open_request
from tests.rights.conftest import AGENT, DPO, NOW, NUMBER, OTHER, REGION, snapshot


async def add(session_factory, number=NUMBER, **more):
    options = {"reason": "objected to recording", "actor": DPO, "now": NOW, "region": REGION}
    options.update(more)
    async with session_factory() as session, session.begin():
        return await donotrecord.add(session, number, **options)


async def test_numbers_returns_every_listed_number_in_e164(session_factory):
    """What the running service loads into memory: normalised numbers, however typed."""
    async with session_factory() as session:
        assert await donotrecord.numbers(session) == frozenset()
    await add(session_factory, "0048 22 123 45 67")
    await add(session_factory, "229876543")
    async with session_factory() as session:
        assert await donotrecord.numbers(session) == frozenset({NUMBER, OTHER})
        entries = await donotrecord.entries(session)
    assert [(e.number, e.added_by, e.reason) for e in entries] == [
        (NUMBER, "dpo-anna", "objected to recording"),
        (OTHER, "dpo-anna", "objected to recording"),
    ]


async def test_a_removed_number_is_recorded_again(session_factory):
    """Removal takes it off the list and leaves an action row with the old entry's date."""
    await add(session_factory)
    async with session_factory() as session, session.begin():
        await donotrecord.remove(session, NUMBER, actor=DPO, now=NOW, region=REGION)
    async with session_factory() as session:
        assert await donotrecord.numbers(session) == frozenset()
    state = await snapshot(session_factory)
    assert len(state["dsr_actions"]) == 2


async def test_an_entry_links_to_its_request(session_factory):
    """Added for an objection request: the entry and the action name it."""
    async with session_factory() as session, session.begin():
        request = await open_request(
            session,
            kind="objection",
            number=NUMBER,
            requester="Jan",
            actor=DPO,
            now=NOW,
            region=REGION,
            deadlines=Deadlines(),
        )
    entry = await add(session_factory, request_id=request.id)
    assert entry.request_id == request.id


BAD = {
    "twice": ({}, InputError, "already on the do-not-record list"),
    "no reason": ({"reason": ""}, InputError, "reason for not recording is empty"),
    "bad number": ({"number": "anonymous"}, NumberError, "Phone number"),
    "unknown request": ({"request_id": 3}, NotFoundError, "Request 3"),
    "an agent": ({"actor": AGENT}, ForbiddenError, "may not change"),
}


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
async def test_bad_additions_change_nothing(session_factory, case):
    """Each refusal is one clear error; the list stays as it was."""
    changes, error, message = case
    await add(session_factory)
    before = await snapshot(session_factory)
    with pytest.raises(error, match=message):
        await add(session_factory, **changes)
    assert await snapshot(session_factory) == before


async def test_removing_an_unlisted_number_is_not_found(session_factory):
    """The number is named."""
    async with session_factory() as session, session.begin():
        with pytest.raises(NotFoundError, match=r"\+48221234567 is not on"):
            await donotrecord.remove(session, NUMBER, actor=DPO, now=NOW, region=REGION)


async def test_staff_reading_the_list_is_logged_and_needs_the_dpo_role(session_factory):
    """The data-protection officer reads the list and the trail says so; an agent is refused
    and leaves no entry."""
    await add(session_factory)
    async with session_factory() as session, session.begin():
        listed = await donotrecord.read_entries(session, actor=DPO, now=NOW, client="10.0.0.7")
    assert [entry.number for entry in listed] == [NUMBER]
    async with session_factory() as session, session.begin():
        with pytest.raises(ForbiddenError, match="agent-piotr"):
            await donotrecord.read_entries(session, actor=AGENT, now=NOW)
    async with session_factory() as session:
        rows = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "dnr.list"))
        ).all()
    assert [(r.actor, r.client, json.loads(r.detail)) for r in rows] == [
        ("dpo-anna", "10.0.0.7", {"results": 1})
    ]
