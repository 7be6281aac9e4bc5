"""Rectification: the new value applies, the original stays visible in the history."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from callrec_ari.db.repository import upsert_calls
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError, NumberError
from callrec_ari.rights.erasure import erase_number
from callrec_ari.rights.lookup import find_calls
from callrec_ari.rights.rectify import history, rectify
from tests.db.records import ringing
from tests.rights.conftest import (
    AGENT,
    DPO,
    NOW,
    NUMBER,
    OTHER,
    REGION,
    call_row,
    snapshot,
    unrecorded,
)


async def fix(session_factory, uniqueid="c1", *, field="agent", value="agent200", now=NOW, **more):
    options = {"reason": "the log shows agent200 answered", "actor": DPO, "region": REGION}
    options.update(more)
    async with session_factory() as session, session.begin():
        return await rectify(session, uniqueid, field=field, value=value, now=now, **options)


async def test_a_corrected_agent_keeps_the_original_in_the_history(session_factory, store):
    """Who changed what, when and why; the first value is still readable."""
    await store(unrecorded("c1"))
    change = await fix(session_factory)
    assert (change.field, change.old_value, change.new_value) == ("agent", "agent100", "agent200")
    row = await call_row(session_factory, "c1")
    assert (row.agent, row.rectified_at) == ("agent200", NOW)
    await fix(session_factory, value="agent300", now=NOW + timedelta(hours=1))
    async with session_factory() as session:
        past = await history(session, "c1")
    assert [(c.old_value, c.new_value, c.changed_by) for c in past.changes] == [
        ("agent100", "agent200", "dpo-anna"),
        ("agent200", "agent300", "dpo-anna"),
    ]
    assert past.originals == {"agent": "agent100"}
    assert past.changes[0].reason == "the log shows agent200 answered"


async def test_a_corrected_caller_number_moves_the_call_to_the_right_person(session_factory, store):
    """caller_e164 is recomputed: the call is found under the new number, not the old one."""
    await store(unrecorded("c1"))
    await fix(session_factory, field="caller_number", value="0048 22 987 65 43")
    row = await call_row(session_factory, "c1")
    assert (row.caller_number, row.caller_e164) == ("0048 22 987 65 43", OTHER)
    async with session_factory() as session:
        assert (await find_calls(session, NUMBER, region=REGION, now=NOW)).calls == ()
        found = await find_calls(session, OTHER, region=REGION, now=NOW)
    assert [c.uniqueid for c in found.calls] == ["c1"]


async def test_a_later_snapshot_does_not_undo_a_correction(session_factory, store):
    """The service replaying the call's last snapshot leaves the corrected value."""
    record = unrecorded("c1")
    await store(record)
    await fix(session_factory, field="dialled_number", value="5552000")
    async with session_factory() as session, session.begin():
        await upsert_calls(session, [dataclasses.replace(record, agent="agent999")])
    row = await call_row(session_factory, "c1")
    assert (row.dialled_number, row.agent) == ("5552000", "agent100")


async def test_a_call_in_progress_cannot_be_corrected(session_factory, store):
    """Its next snapshot would overwrite the correction; it is refused until the call ends."""
    await store(ringing("c1"))
    before = await snapshot(session_factory)
    with pytest.raises(InputError, match="has not finished"):
        await fix(session_factory)
    assert await snapshot(session_factory) == before


async def test_an_erased_call_has_nothing_left_to_correct(session_factory, store, recordings):
    """Erasure removed the personal fields and their history."""
    await store(unrecorded("c1"))
    await fix(session_factory)
    async with session_factory() as session, session.begin():
        await erase_number(session, recordings, NUMBER, actor=DPO, now=NOW, region=REGION)
    with pytest.raises(InputError, match="already erased"):
        await fix(session_factory, value="agent300")
    async with session_factory() as session:
        assert (await history(session, "c1")).changes == ()


BAD = {
    "unknown field": ({"field": "consent", "value": "given"}, InputError, "cannot be corrected"),
    "empty value": ({"value": "  "}, InputError, "new value of agent is empty"),
    "long value": ({"value": "a" * 129}, InputError, "longer than 128"),
    "same value": ({"value": "agent100"}, InputError, "already has agent"),
    "bad number": ({"field": "caller_number", "value": "anonymous"}, NumberError, "Phone"),
    "no reason": ({"reason": ""}, InputError, "reason for the correction is empty"),
    "unknown call": ({"uniqueid": "nope"}, NotFoundError, "Call 'nope' does not exist"),
    "unknown request": ({"request_id": 7}, NotFoundError, "Request 7"),
    "an agent": ({"actor": AGENT}, ForbiddenError, "may not correct"),
}


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
async def test_bad_corrections_change_nothing(session_factory, store, case):
    """Each bad input is one clear error; the row and its history stay as they were."""
    changes, error, message = case
    await store(unrecorded("c1"))
    before = await snapshot(session_factory)
    options = {"reason": "wrong agent", "actor": DPO, "region": REGION, "field": "agent"}
    options.update({"uniqueid": "c1", "value": "agent200", **changes})
    async with session_factory() as session, session.begin():  # committed: no partial writes
        with pytest.raises(error, match=message):
            await rectify(session, now=NOW, **options)
    assert await snapshot(session_factory) == before


async def test_history_of_an_unknown_call_is_not_found(session_factory):
    """The uniqueid is named in the error."""
    async with session_factory() as session:
        with pytest.raises(NotFoundError, match=r"'x\.1'"):
            await history(session, "x.1")
