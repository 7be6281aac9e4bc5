"""The consent evidence on the staff web app: the statement for the dpo, audited; nobody else."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import select

from callrec_ari.access import Role
from callrec_ari.db.models import AuditEntry
from callrec_ari.db.repository import upsert_call
from callrec_ari.evidence.facts import Fact, Kind, PromptHeard
from tests.web.conftest import sign_in

SHA_FI = "f1" * 32
FIRST_CALL = "1796000000.0"  # the ``calls`` fixture's first call, answered by agent100


@pytest.fixture
async def heard_finnish_only(calls, session_factory):
    """The first call's evidence: Finnish heard to its end, gone during Swedish."""
    call = calls[0]
    finnish = Fact(
        kind=Kind.HEARD,
        at=call.started_at,
        language="fi",
        prompts=(PromptHeard(name="announcement", language="fi", version=4, sha256=SHA_FI),),
    )
    record = dataclasses.replace(
        call,
        languages=("fi", "sv"),
        evidence=(Fact(kind=Kind.OFFERED, at=call.started_at, digit="9"), finnish),
    )
    async with session_factory() as db, db.begin():
        await upsert_call(db, record)
    return record


async def evidence_reads(session_factory) -> list[AuditEntry]:
    async with session_factory() as db:
        query = select(AuditEntry).where(AuditEntry.action == "evidence.read")
        return list(await db.scalars(query))


async def test_the_dpo_reads_the_statement_and_the_read_is_audited(
    client, person, clock, heard_finnish_only, session_factory
):
    """The call page links the evidence; its page names the audio's hash; the trail says who."""
    await sign_in(client, await person("dora", Role.DPO), clock)
    uniqueid = heard_finnish_only.uniqueid
    call_page = await (await client.get(f"/calls/{uniqueid}")).text()
    assert 'id="evidence-link"' in call_page
    response = await client.get(f"/calls/{uniqueid}/evidence")
    assert response.status == 200
    text = await response.text()
    assert f"announcement v4 (fi, sha256 {SHA_FI})" in text
    assert "Languages heard to the end: fi." in text
    [entry] = await evidence_reads(session_factory)
    assert (entry.actor, entry.target) == ("dora", uniqueid)
    assert json.loads(entry.detail)["via"] == "web"


async def test_languages_heard_are_the_played_ones_not_the_routes(
    client, person, clock, heard_finnish_only
):
    """Route fi+sv, gone during Swedish: the page and the API say Finnish was heard."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    uniqueid = heard_finnish_only.uniqueid
    body = await (await client.get(f"/api/calls/{uniqueid}")).json()
    assert body["languages"] == ["fi", "sv"]
    assert body["languages_played"] == ["fi"]
    page = await (await client.get(f"/calls/{uniqueid}")).text()
    assert '<td id="languages-heard">fi</td>' in page


@pytest.mark.usefixtures("heard_finnish_only")
@pytest.mark.parametrize(
    "who", [(Role.SUPERVISOR, None), (Role.ADMIN, None), (Role.AGENT, "agent100")]
)
async def test_other_roles_get_no_evidence_and_leave_no_read(
    client, person, clock, session_factory, who
):
    """Supervisor, admin and the call's own agent: no link, and the page is refused."""
    role, extension = who
    await sign_in(client, await person("olga", role, extension=extension), clock)
    uniqueid = FIRST_CALL
    call_page = await (await client.get(f"/calls/{uniqueid}")).text()
    assert "evidence-link" not in call_page
    response = await client.get(f"/calls/{uniqueid}/evidence")
    assert response.status == 403
    assert await evidence_reads(session_factory) == []


async def test_an_unknown_call_is_not_found_for_the_dpo(client, person, clock, calls):
    """Asking for the evidence of a call that was never stored: 404, one sentence."""
    await sign_in(client, await person("dora", Role.DPO), clock)
    response = await client.get("/calls/1799999999.1/evidence")
    assert response.status == 404
    assert "Call &#39;1799999999.1&#39; does not exist." in await response.text()
