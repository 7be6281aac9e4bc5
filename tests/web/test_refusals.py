"""Refused attempts leave a trace in the audit trail, rate-limited, without changing the
answer (issue 10 §5)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from callrec_ari.access import Role
from callrec_ari.db.models import AuditEntry
from tests.web.conftest import csrf, sign_in

REASON = "Customer complaint 2026/118 about the quoted price"


async def refusals(session_factory):
    async with session_factory() as db:
        rows = await db.scalars(
            select(AuditEntry).where(AuditEntry.action == "access.refused").order_by(AuditEntry.seq)
        )
        return [(row.actor, row.target, json.loads(row.detail)) for row in rows]


async def test_an_agent_opening_a_colleagues_call_is_audited_and_told_nothing(
    client, person, clock, calls, session_factory
):
    """The colleague's call and a call that never existed get the same 404; the attempt
    on the colleague's call is in the trail."""
    await sign_in(client, await person("piotr", Role.AGENT, extension="agent100"), clock)
    colleague = await client.get(f"/api/calls/{calls[1].uniqueid}")
    missing = await client.get("/api/calls/1796000000.77")
    assert colleague.status == missing.status == 404
    assert (await colleague.json())["error"].replace(calls[1].uniqueid, "X") == (
        await missing.json()
    )["error"].replace("1796000000.77", "X")
    assert colleague.headers.keys() == missing.headers.keys()
    [(actor, target, detail)] = await refusals(session_factory)
    assert (actor, target) == ("piotr", f"GET /api/calls/{calls[1].uniqueid}")
    assert detail["error_id"] == "not_found"
    assert detail["repeats"] == 0


async def test_an_admin_refused_audio_is_audited(client, person, clock, calls, session_factory):
    """An admin asking to listen is refused (403) and the refusal is in the trail."""
    await sign_in(client, await person("ada", Role.ADMIN), clock)
    token = await csrf(client, "/calls")
    response = await client.post(
        f"/calls/{calls[0].uniqueid}/listen",
        data={"csrf": token, "reason": REASON, "category": "quality"},
        allow_redirects=False,
    )
    assert response.status == 403
    [(actor, target, detail)] = await refusals(session_factory)
    assert (actor, target) == ("ada", f"POST /calls/{calls[0].uniqueid}/listen")
    assert detail["error_id"] == "forbidden"


async def test_fuzzing_call_ids_costs_one_entry_a_minute(
    client, person, clock, calls, session_factory
):
    """Fifty guessed ids in a minute make one entry; the next minute's entry counts the 49."""
    await sign_in(client, await person("piotr", Role.AGENT, extension="agent100"), clock)
    for n in range(50):
        assert (await client.get(f"/api/calls/1796000001.{n}")).status == 404
    assert len(await refusals(session_factory)) == 1
    clock.advance(seconds=61)
    assert (await client.get(f"/api/calls/{calls[1].uniqueid}")).status == 404
    first, second = await refusals(session_factory)
    assert first[2]["repeats"] == 0
    assert second[1] == f"GET /api/calls/{calls[1].uniqueid}"
    assert second[2]["repeats"] == 49


@pytest.mark.usefixtures("calls")
async def test_kinds_of_refusal_are_counted_apart(client, person, clock, session_factory):
    """A 'not found' flood does not hide a 'forbidden' in the same minute."""
    await sign_in(client, await person("piotr", Role.AGENT, extension="agent100"), clock)
    for n in range(5):
        await client.get(f"/api/calls/1796000001.{n}")
    assert (await client.get("/api/audit")).status == 403
    kinds = [detail["error_id"] for _, _, detail in await refusals(session_factory)]
    assert kinds == ["not_found", "forbidden"]


async def test_nobody_signed_in_writes_nothing(client, calls, session_factory):
    """Anonymous requests are sent to sign in; they cannot fill the trail."""
    for _ in range(5):
        assert (await client.get(f"/api/calls/{calls[0].uniqueid}")).status == 401
    assert await refusals(session_factory) == []
