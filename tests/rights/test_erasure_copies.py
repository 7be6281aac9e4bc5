"""Erasure names the copies that left earlier (seed 001): deleted for good here, not outside."""

from __future__ import annotations

import json

from sqlalchemy import select

from callrec_ari.db.models import DsrAction
from callrec_ari.rights import text
from callrec_ari.rights.erasure import erase_number
from callrec_ari.rights.export import export_number
from tests.releases.conftest import RECIPIENT, ask, decide, redeem
from tests.rights.conftest import (
    DPO,
    NOW,
    NUMBER,
    OTHER,
    REGION,
    open_export_request,
    recorded,
    with_caller_leg,
)


async def _release(session_factory, recordings, uniqueid):
    asked = await ask(session_factory, uniqueid=uniqueid)
    _, token = await decide(session_factory, asked.id, note="court order checked")
    await redeem(session_factory, asked.id, token, recordings)
    return asked.id


async def test_erasure_lists_every_release_and_export_of_the_number_s_recordings(
    session_factory, store, recordings, tmp_path
):
    """A release and an export of the number's calls are named in the result, the output
    and the request's record; another number's release is not."""
    first, second = recorded(recordings, "c1"), recorded(recordings, "c2", minutes=2)
    foreign = recorded(recordings, "c9", number="48229876543", e164=OTHER, minutes=4)
    for record in (first, second):
        with_caller_leg(recordings, record)
    await store(first, second, foreign)
    released = await _release(session_factory, recordings, "c1")
    await _release(session_factory, recordings, "c9")
    access = await open_export_request(session_factory)
    async with session_factory() as session, session.begin():
        await export_number(
            session,
            recordings,
            NUMBER,
            tmp_path / "pkg",
            actor=DPO,
            now=NOW,
            region=REGION,
            request_id=access,
        )
    erasure = await open_export_request(session_factory, kind="erasure")

    async with session_factory() as session, session.begin():
        result = await erase_number(
            session, recordings, NUMBER, actor=DPO, now=NOW, region=REGION, request_id=erasure
        )

    listed = sorted((c.uniqueid, c.kind, c.release_id, c.request_id) for c in result.copies)
    assert listed == [
        ("c1", "caller", None, access),
        ("c1", "mix", released, None),
        ("c2", "caller", None, access),
    ]
    mix = next(c for c in result.copies if c.kind == "mix")
    assert (mix.recipient, mix.sha256) == (RECIPIENT, first.sha256)
    shown = "\n".join(text.erasure(result))
    assert "3 copy(ies) of these recordings left callrec earlier" in shown
    assert f"to {RECIPIENT}, release {released}" in shown
    assert f"request {access}" in shown
    assert "c9" not in shown
    async with session_factory() as session:
        action = await session.scalar(select(DsrAction).where(DsrAction.action == "erased"))
    recorded_copies = json.loads(action.detail)["copies_outside"]
    assert sorted(c["id"] for c in recorded_copies) == sorted(c.id for c in result.copies)
    assert {c["sha256"] for c in recorded_copies} >= {first.sha256}


async def test_an_erasure_with_no_copies_outside_says_nothing_of_them(
    session_factory, store, recordings
):
    """No copy ever left: the output has no copies line, the record an empty list."""
    await store(recorded(recordings, "c1"))
    async with session_factory() as session, session.begin():
        result = await erase_number(session, recordings, NUMBER, actor=DPO, now=NOW, region=REGION)
    assert result.copies == ()
    assert not any("copy" in line for line in text.erasure(result))
