"""Legal holds in the web app: the supervisor holds a call or a number's calls and releases."""

from __future__ import annotations

from sqlalchemy import select

from callrec_ari.access import Role
from callrec_ari.db.models import AuditEntry
from tests.web.conftest import csrf, sign_in


async def post_api(client, path, body):
    token = await csrf(client, "/calls")
    return await client.post(path, json=body, headers={"X-CSRF-Token": token})


async def test_a_supervisor_holds_a_call_and_releases_it(client, person, clock, calls):
    """From the call's page to the holds list and back out, each step in the trail."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    page = await (await client.get(f"/calls/{calls[0].uniqueid}")).text()
    assert 'id="hold-form"' in page
    held = await post_api(
        client,
        f"/api/calls/{calls[0].uniqueid}/holds",
        {"case_reference": "PR-2026/7", "reason": "police inquiry"},
    )
    assert held.status == 201
    hold = await held.json()
    assert (hold["calls"], hold["active"], hold["placed_by"]) == (1, True, "sue")
    listed = await (await client.get("/api/calls", params={"held": "yes"})).json()
    assert [call["uniqueid"] for call in listed["calls"]] == [calls[0].uniqueid]
    page = await (await client.get("/holds")).text()
    assert "PR-2026/7" in page
    released = await post_api(client, f"/api/holds/{hold['id']}/release", {"reason": "closed"})
    assert (await released.json())["hold"]["active"] is False
    assert (await (await client.get("/api/holds")).json())["holds"] == []


async def test_a_number_is_held_over_a_period(client, person, clock, calls, session_factory):
    """Every call of the number in the dates given; the trail keeps only its last digits."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    held = await post_api(
        client,
        "/api/holds",
        {
            "number": "+48 22 123 45 67",
            "from": "2026-11-01",
            "to": "2026-11-30",
            "case_reference": "COURT-1",
            "reason": "court order",
        },
    )
    assert held.status == 201, await held.text()
    assert (await held.json())["calls"] == 2
    async with session_factory() as db:
        [entry] = await db.scalars(select(AuditEntry).where(AuditEntry.action == "hold.place"))
    assert "+48221234567" not in entry.detail


async def test_bad_holds_are_one_clear_sentence(client, person, clock, calls):
    """No reason, an unreadable number, no dates, an unknown hold: 400 or 404, nothing held."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    no_reason = await post_api(
        client, f"/api/calls/{calls[0].uniqueid}/holds", {"case_reference": "X"}
    )
    assert no_reason.status == 400
    bad_number = await post_api(
        client,
        "/api/holds",
        {
            "number": "call me",
            "from": "2026-11-01",
            "to": "2026-11-30",
            "case_reference": "C",
            "reason": "r",
        },
    )
    assert bad_number.status == 400
    no_dates = await post_api(
        client, "/api/holds", {"number": "+48221234567", "case_reference": "C", "reason": "r"}
    )
    assert no_dates.status == 400
    unknown = await post_api(client, "/api/holds/999/release", {"reason": "closed"})
    assert unknown.status == 404
    assert (await (await client.get("/api/holds")).json())["holds"] == []


async def test_holds_are_the_supervisor_s(client, person, clock, calls):
    """Agents, the dpo, the director and the admin get 403 on every hold endpoint."""
    for index, role in enumerate([Role.AGENT, Role.DPO, Role.DIRECTOR, Role.ADMIN]):
        who = await person(f"user{index}", role, extension="agent100")
        await sign_in(client, who, clock)
        assert (await client.get("/holds")).status == 403
        assert (await client.get("/api/holds")).status == 403
        body = {"case_reference": "C", "reason": "r"}
        assert (await post_api(client, f"/api/calls/{calls[0].uniqueid}/holds", body)).status == 403
        assert (await post_api(client, "/api/holds/1/release", {"reason": "r"})).status == 403
        await client.post("/logout", data={"csrf": await csrf(client, "/calls")})
        clock.advance(seconds=31)
