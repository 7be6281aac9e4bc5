"""Searching and listening in the web app: reasons first, Range streaming, agents' own calls."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import select

from callrec_ari.access import Role
from callrec_ari.agent_legs import AgentLeg
from callrec_ari.db.models import AuditEntry
from callrec_ari.db.repository import upsert_calls
from callrec_ari.records import Consent, RecordingStatus
from tests.db.records import T0, finished, ringing
from tests.rights.conftest import place_hold
from tests.web.conftest import csrf, sign_in

REASON = "Customer complaint 2026/118 about the quoted price"


async def listen(client, uniqueid, reason=REASON, category="complaint"):
    token = await csrf(client, "/calls")
    return await client.post(
        f"/calls/{uniqueid}/listen",
        data={"csrf": token, "reason": reason, "category": category},
        allow_redirects=False,
    )


async def audit_actions(session_factory, action):
    async with session_factory() as db:
        rows = await db.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return list(rows)


async def test_a_supervisor_finds_every_call(client, person, clock, calls):
    """The calls page lists both calls, newest first; the API says the same."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    page = await (await client.get("/calls")).text()
    assert calls[0].uniqueid in page
    assert calls[1].uniqueid in page
    body = await (await client.get("/api/calls")).json()
    assert [call["uniqueid"] for call in body["calls"]] == [calls[1].uniqueid, calls[0].uniqueid]


async def test_an_agent_finds_and_opens_only_their_own_calls(client, person, clock, calls):
    """agent100 sees their call; the colleague's is 'not found', in search and by address."""
    await sign_in(client, await person("piotr", Role.AGENT, extension="agent100"), clock)
    body = await (await client.get("/api/calls")).json()
    assert [call["uniqueid"] for call in body["calls"]] == [calls[0].uniqueid]
    assert (await client.get(f"/calls/{calls[1].uniqueid}")).status == 404
    assert (await client.get(f"/api/calls/{calls[1].uniqueid}")).status == 404
    assert (await listen(client, calls[1].uniqueid)).status in {403, 404}


async def test_the_agent_a_call_was_transferred_to_finds_and_plays_it(
    client, person, clock, calls, session_factory
):
    """agent200's call went on to agent300 (a leg): agent300 finds it in their own list and
    by the agent filter, and it plays for them; agent100's call stays hidden from them."""
    start = calls[1].started_at
    first = AgentLeg(agent="agent200", channel_id="1796000000.8", joined_at=start, left_at=start)
    leg = AgentLeg(agent="agent300", channel_id="1796000000.9", joined_at=start)
    async with session_factory() as db, db.begin():
        await upsert_calls(db, [dataclasses.replace(calls[1], agent_legs=(first, leg))])
    await sign_in(client, await person("olga", Role.AGENT, extension="agent300"), clock)
    mine = await (await client.get("/api/calls")).json()
    assert [call["uniqueid"] for call in mine["calls"]] == [calls[1].uniqueid]
    assert mine["calls"][0]["playable"] is True
    by_agent = await (await client.get("/api/calls", params={"agent": "agent300"})).json()
    assert [call["uniqueid"] for call in by_agent["calls"]] == [calls[1].uniqueid]
    assert (await listen(client, calls[1].uniqueid)).status == 303
    assert (await client.get(f"/calls/{calls[1].uniqueid}/audio")).status == 200
    assert (await client.get(f"/api/calls/{calls[0].uniqueid}")).status == 404
    one = await (await client.get(f"/api/calls/{calls[1].uniqueid}")).json()
    assert one["agent"] == "agent200"
    assert one["agents"] == [
        {"agent": "agent200", "joined_at": start.isoformat(), "left_at": start.isoformat()},
        {"agent": "agent300", "joined_at": start.isoformat(), "left_at": None},
    ]
    page = await (await client.get(f"/calls/{calls[1].uniqueid}")).text()
    assert page.count("agent300") >= 1
    assert 'id="agent-legs"' in page


async def test_listening_needs_a_reason_and_is_audited(
    client, person, clock, calls, session_factory
):
    """No audio before a reason; with one, the player appears and the play is in the trail."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    uniqueid = calls[0].uniqueid
    assert (await client.get(f"/calls/{uniqueid}/audio")).status == 403
    short = await listen(client, uniqueid, reason="because")
    assert short.status == 400
    response = await listen(client, uniqueid)
    assert response.status == 303
    page = await (await client.get(f"/calls/{uniqueid}")).text()
    assert f'src="/calls/{uniqueid}/audio"' in page
    drawing = await client.get(f"/calls/{uniqueid}/waveform.svg")
    assert drawing.status == 200
    assert drawing.headers["Content-Type"].startswith("image/svg+xml")
    assert "<polygon" in await drawing.text()
    [play] = await audit_actions(session_factory, "play")
    assert play.actor == "sue"
    assert play.target == uniqueid
    assert REASON in play.detail


async def test_audio_streams_in_ranges(client, person, clock, calls, settings):
    """The browser's player asks for byte ranges and gets exactly those bytes."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    uniqueid = calls[0].uniqueid
    await listen(client, uniqueid)
    wav = (settings.recording.service_dir / str(calls[0].recording_path)).read_bytes()
    whole = await client.get(f"/calls/{uniqueid}/audio")
    assert whole.status == 200
    assert whole.headers["Content-Type"] == "audio/wav"
    assert await whole.read() == wav
    part = await client.get(f"/calls/{uniqueid}/audio", headers={"Range": "bytes=100-199"})
    assert part.status == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(wav)}"
    assert await part.read() == wav[100:200]


async def test_the_admin_sees_calls_but_never_hears_them(client, person, clock, calls):
    """Running the system is no reason to listen: the reason form refuses the admin."""
    await sign_in(client, await person("ada", Role.ADMIN), clock)
    assert (await client.get(f"/calls/{calls[0].uniqueid}")).status == 200
    assert (await listen(client, calls[0].uniqueid)).status == 403


async def test_search_filters_and_bad_filters(client, person, clock, calls):
    """By agent, by number in any format; an unreadable date is one clear 400."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    by_agent = await (await client.get("/api/calls", params={"agent": "agent200"})).json()
    assert [call["uniqueid"] for call in by_agent["calls"]] == [calls[1].uniqueid]
    bad = await client.get("/api/calls", params={"since": "yesterday-ish"})
    assert bad.status == 400
    assert "since" in (await bad.json())["error"]
    garbage = await client.get("/api/calls", params={"cursor": "not-a-cursor"})
    assert garbage.status == 400


async def test_the_api_listens_with_a_json_reason(client, person, clock, calls):
    """The JSON API takes the reason as JSON, with the CSRF token in a header."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    token = await csrf(client, "/calls")
    response = await client.post(
        f"/api/calls/{calls[0].uniqueid}/listen",
        json={"reason": REASON, "category": "quality"},
        headers={"X-CSRF-Token": token},
    )
    assert response.status == 200
    audio_url = (await response.json())["audio_url"]
    assert (await client.get(audio_url)).status == 200
    no_token = await client.post(
        f"/api/calls/{calls[0].uniqueid}/listen", json={"reason": REASON, "category": "quality"}
    )
    assert no_token.status == 403


async def test_a_call_shows_how_long_it_is_kept_and_why(
    client, person, clock, calls, session_factory
):
    """The call page and the API name the languages played, the length, the retention policy
    and the day the purge takes it; a hold adds that it is kept longer."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    call = calls[0]
    assert call.delete_after is not None
    body = await (await client.get(f"/api/calls/{call.uniqueid}")).json()
    assert body["languages"] == ["pl", "en"]
    assert body["retention_policy"] == "months-6"
    assert body["delete_after"] == call.delete_after.isoformat()
    assert body["duration_seconds"] == call.duration_seconds
    page = await (await client.get(f"/calls/{call.uniqueid}")).text()
    assert "pl, en" in page
    assert "months-6" in page
    assert call.delete_after.strftime("%Y-%m-%d %H:%M:%S UTC") in page
    assert "legal hold is in force" not in page
    await place_hold(session_factory, "II K 7/26", [call.uniqueid])
    held = await (await client.get(f"/calls/{call.uniqueid}")).text()
    assert "legal hold is in force" in held


async def test_a_withdrawn_call_shows_when_the_caller_withdrew_and_cannot_be_played(
    client, person, clock, session_factory
):
    """The dpo finds the call by its consent, sees the withdrawal time, and no player."""
    pressed = T0 + timedelta(seconds=40)
    record = dataclasses.replace(
        finished(ringing("1796000009.0")),
        consent=Consent.WITHDRAWN,
        withdrawn_at=pressed,
        recording_status=RecordingStatus.DELETED,
        recording_path=None,
        duration_seconds=None,
        size_bytes=None,
        sha256=None,
    )
    async with session_factory() as db, db.begin():
        await upsert_calls(db, [record])
    await sign_in(client, await person("dora", Role.DPO), clock)
    body = await (await client.get("/api/calls", params={"consent": "withdrawn"})).json()
    [found] = body["calls"]
    assert found["withdrawn_at"] == pressed.isoformat()
    assert (found["recording_status"], found["playable"]) == ("deleted", False)
    page = await (await client.get(f"/calls/{record.uniqueid}")).text()
    assert pressed.strftime("%Y-%m-%d %H:%M:%S UTC") in page
    assert 'id="player"' not in page


async def test_a_call_cut_by_the_pbx_says_so_and_names_its_node(
    client, person, clock, calls, session_factory
):
    """A recording an Asterisk crash cut short (repaired) is marked on the call's page and in
    the API, beside the node that recorded it."""
    cut = dataclasses.replace(calls[0], interrupted_by="pbx")
    async with session_factory() as db, db.begin():
        await upsert_calls(db, [cut], node="pbx-b")
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    page = await (await client.get(f"/calls/{cut.uniqueid}")).text()
    assert 'id="interrupted-by"' in page
    assert "pbx-b" in page
    api = await (await client.get(f"/api/calls/{cut.uniqueid}")).json()
    assert (api["interrupted_by"], api["node"]) == ("pbx", "pbx-b")
    other = await (await client.get(f"/api/calls/{calls[1].uniqueid}")).json()
    assert (other["interrupted_by"], other["node"]) == (None, None)
