"""Listening is checked on every audio and waveform request against the database as it is
now, and every answer is audited (issue 10 §2)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, select, update

from callrec_ari.access import Actor, Role
from callrec_ari.db.models import AuditEntry, Call, User, UserRole
from callrec_ari.rights import erasure, restrict
from tests.web.conftest import csrf, sign_in

REASON = "Customer complaint 2026/118 about the quoted price"
DPO = Actor.of("dpo-anna", Role.DPO)


async def listen(client, uniqueid):
    token = await csrf(client, "/calls")
    response = await client.post(
        f"/calls/{uniqueid}/listen",
        data={"csrf": token, "reason": REASON, "category": "complaint"},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()


async def entries(session_factory, action):
    async with session_factory() as db:
        rows = await db.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        )
        return list(rows)


async def test_a_call_restricted_after_the_reason_stops_playing(
    client, person, clock, calls, session_factory
):
    """The dpo restricts the call a minute after the supervisor stated a reason: audio and
    waveform are refused within the 30 minutes, and the refusal is in the trail."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    uniqueid = calls[0].uniqueid
    await listen(client, uniqueid)
    assert (await client.get(f"/calls/{uniqueid}/audio")).status == 200
    async with session_factory() as db, db.begin():
        await restrict.restrict_call(
            db, uniqueid, reason="Art. 18 objection by the caller", actor=DPO, now=clock()
        )
    clock.advance(minutes=1)
    assert (await client.get(f"/calls/{uniqueid}/audio")).status == 403
    assert (await client.get(f"/calls/{uniqueid}/waveform.svg")).status == 403
    [refused] = await entries(session_factory, "access.refused")
    assert refused.actor == "sue"
    assert refused.target == f"GET /calls/{uniqueid}/audio"
    assert json.loads(refused.detail)["error_id"] == "forbidden"


async def test_a_demoted_supervisor_can_no_longer_listen(
    client, person, clock, calls, session_factory
):
    """A supervisor made an agent after stating a reason hears nothing more of a colleague's
    call: the call is now 'not found' for them, as for any agent."""
    await sign_in(client, await person("sue", Role.SUPERVISOR, extension="agent900"), clock)
    uniqueid = calls[0].uniqueid
    await listen(client, uniqueid)
    assert (await client.get(f"/calls/{uniqueid}/waveform.svg")).status == 200
    async with session_factory() as db, db.begin():
        user_id = await db.scalar(select(User.id).where(User.username == "sue"))
        await db.execute(delete(UserRole).where(UserRole.user_id == user_id))
        db.add(UserRole(user_id=user_id, role=Role.AGENT.value))
    audio = await client.get(f"/calls/{uniqueid}/audio")
    assert audio.status == 404
    assert (await client.get(f"/calls/{uniqueid}/waveform.svg")).status == 404
    [refused] = await entries(session_factory, "access.refused")
    assert refused.actor == "sue"
    assert json.loads(refused.detail)["error_id"] == "not_found"


async def test_a_disabled_account_gets_no_more_sound(client, person, clock, calls, session_factory):
    """An account disabled while listening is signed out at its next audio request."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    uniqueid = calls[0].uniqueid
    await listen(client, uniqueid)
    async with session_factory() as db, db.begin():
        await db.execute(update(User).where(User.username == "sue").values(disabled_at=clock()))
    audio = await client.get(f"/calls/{uniqueid}/audio", allow_redirects=False)
    assert audio.status == 303
    assert audio.headers["Location"].startswith("/login")


@pytest.mark.usefixtures("calls")
async def test_an_erased_call_stops_playing(client, person, clock, session_factory, settings):
    """A call erased after the reason was stated is 'not found', not served from the disk."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    uniqueid = "1796000000.0"  # the fixture's first call
    await listen(client, uniqueid)
    async with session_factory() as db, db.begin():
        await erasure.erase_number(
            db,
            settings.recording.service_dir,
            "+48221234567",  # the number of both calls of the fixture
            actor=DPO,
            now=clock(),
            region=settings.numbers_region,
        )
        assert (await db.scalar(select(Call).where(Call.uniqueid == uniqueid))) is not None
    assert (await client.get(f"/calls/{uniqueid}/audio")).status == 404
    assert (await client.get(f"/calls/{uniqueid}/waveform.svg")).status == 404


async def test_each_listening_is_audited_without_flooding_the_trail(
    client, person, clock, calls, session_factory
):
    """A player's many range requests make one play.stream entry naming the reason's entry;
    five minutes later the next entry counts the requests answered in between."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    uniqueid = calls[0].uniqueid
    await listen(client, uniqueid)
    [play] = await entries(session_factory, "play")
    for start in range(0, 1000, 100):
        part = await client.get(
            f"/calls/{uniqueid}/audio", headers={"Range": f"bytes={start}-{start + 99}"}
        )
        assert part.status == 206
    assert (await client.get(f"/calls/{uniqueid}/waveform.svg")).status == 200
    [first] = await entries(session_factory, "play.stream")
    assert first.actor == "sue"
    assert first.target == uniqueid
    assert json.loads(first.detail) == {
        "play_seq": play.seq,
        "category": "complaint",
        "via": "audio",
        "repeats": 0,
    }
    clock.advance(minutes=5)
    assert (await client.get(f"/calls/{uniqueid}/audio")).status == 200
    _, second = await entries(session_factory, "play.stream")
    assert json.loads(second.detail)["repeats"] == 10  # nine ranges and the waveform


async def test_the_grant_still_ends_after_thirty_minutes(client, person, clock, calls):
    """A stated reason covers one listening session: after 30 minutes a new one is needed."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    uniqueid = calls[0].uniqueid
    await listen(client, uniqueid)
    for _ in range(2):  # pages keep the session alive (it ends after 15 idle minutes)
        clock.advance(minutes=14, seconds=30)
        assert (await client.get(f"/calls/{uniqueid}/audio")).status == 200
        assert (await client.get(f"/calls/{uniqueid}")).status == 200  # a page saves the session
    clock.advance(minutes=2)
    assert (await client.get(f"/calls/{uniqueid}/audio")).status == 403
