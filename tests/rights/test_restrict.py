"""Restriction: kept but locked to the dpo, per call or for all of a number's calls."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from callrec_ari.access import may_export, may_play
from callrec_ari.db.models import DsrAction
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError, NumberError
from callrec_ari.rights.restrict import lift_call, lift_number, restrict_call, restrict_number
from callrec_ari.rights.subject import facts
from tests.rights.conftest import (
    AGENT,
    DIRECTOR,
    DPO,
    NOW,
    NUMBER,
    OTHER,
    REGION,
    call_row,
    snapshot,
    unrecorded,
)


async def test_a_restricted_call_is_locked_to_the_dpo_until_lifted(session_factory, store):
    """Who and why are on the row; the agent and the director lose access until the lift."""
    await store(unrecorded("c1"))
    async with session_factory() as session, session.begin():
        done = await restrict_call(session, "c1", reason="objected (Art. 21)", actor=DPO, now=NOW)
    assert done.changed == ("c1",)
    row = await call_row(session_factory, "c1")
    assert (row.restricted_at, row.restricted_by, row.restriction_reason) == (
        NOW,
        "dpo-anna",
        "objected (Art. 21)",
    )
    assert not may_play(AGENT, facts(row))
    assert not may_export(DIRECTOR, facts(row))
    assert may_play(DPO, facts(row))
    async with session_factory() as session, session.begin():
        await lift_call(session, "c1", reason="objection settled", actor=DPO, now=NOW)
    row = await call_row(session_factory, "c1")
    assert (row.restricted_at, row.restricted_by, row.restriction_reason) == (None, None, None)
    assert may_play(AGENT, facts(row))
    async with session_factory() as session:
        actions = (await session.scalars(select(DsrAction).order_by(DsrAction.id))).all()
    assert [(a.action, json.loads(a.detail)["reason"]) for a in actions] == [
        ("restricted", "objected (Art. 21)"),
        ("unrestricted", "objection settled"),
    ]


async def test_a_number_restricts_all_its_calls_and_no_others(session_factory, store):
    """Calls already restricted stay as they were; another caller's are untouched."""
    await store(
        unrecorded("c1"),
        unrecorded("c2", minutes=1),
        unrecorded("x", caller_number="48229876543", caller_e164=OTHER),
    )
    async with session_factory() as session, session.begin():
        await restrict_call(session, "c1", reason="first", actor=DPO, now=NOW)
    async with session_factory() as session, session.begin():
        done = await restrict_number(
            session, "221234567", reason="objection", actor=DPO, now=NOW, region=REGION
        )
    assert (done.changed, done.unchanged) == (("c2",), ("c1",))
    assert (await call_row(session_factory, "c1")).restriction_reason == "first"
    assert (await call_row(session_factory, "x")).restricted_at is None
    async with session_factory() as session, session.begin():
        lifted = await lift_number(
            session, NUMBER, reason="done", actor=DPO, now=NOW, region=REGION
        )
    assert sorted(lifted.changed) == ["c1", "c2"]


BAD = {
    "already restricted": (
        lambda s: restrict_call(s, "c1", reason="again", actor=DPO, now=NOW),
        InputError,
        "already restricted",
    ),
    "lift unrestricted": (
        lambda s: lift_call(s, "c2", reason="x", actor=DPO, now=NOW),
        InputError,
        "is not restricted",
    ),
    "unknown call": (
        lambda s: restrict_call(s, "zz", reason="x", actor=DPO, now=NOW),
        NotFoundError,
        "does not exist",
    ),
    "no reason": (
        lambda s: restrict_call(s, "c2", reason=" ", actor=DPO, now=NOW),
        InputError,
        "reason for the restriction is empty",
    ),
    "number without calls": (
        lambda s: restrict_number(s, OTHER, reason="x", actor=DPO, now=NOW, region=REGION),
        NotFoundError,
        r"No stored calls are from \+48229",
    ),
    "bad number": (
        lambda s: restrict_number(s, "0", reason="x", actor=DPO, now=NOW, region=REGION),
        NumberError,
        "Phone number",
    ),
    "an agent": (
        lambda s: restrict_call(s, "c2", reason="x", actor=AGENT, now=NOW),
        ForbiddenError,
        "may not restrict",
    ),
}


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
async def test_bad_restrictions_change_nothing(session_factory, store, case):
    """Each refusal is one clear error and leaves every row as it was."""
    operation, error, message = case
    await store(unrecorded("c1"), unrecorded("c2", minutes=1))
    async with session_factory() as session, session.begin():
        await restrict_call(session, "c1", reason="first", actor=DPO, now=NOW)
    before = await snapshot(session_factory)
    async with session_factory() as session, session.begin():
        with pytest.raises(error, match=message):
            await operation(session)
    assert await snapshot(session_factory) == before
