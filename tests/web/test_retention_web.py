"""The dpo's retention report page and API: what is overdue, and who may see it."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from callrec_ari.access import Role
from callrec_ari.db.models import AuditEntry
from callrec_ari.db.repository import upsert_calls
from callrec_ari.recording.paths import relative_path
from tests.db.records import finished, ringing
from tests.web.conftest import START, sign_in


@pytest.fixture
async def overdue(session_factory, calls):
    """Besides the two recent calls, one kept 7 days started 400 days before the web app's
    clock: long overdue."""
    start = START - timedelta(days=400)
    record = dataclasses.replace(
        finished(ringing("1690000000.1", start=start)),
        recording_path=str(relative_path("1690000000.1", start)),
        retention_policy="days-7",
        delete_after=start + timedelta(days=7),
    )
    async with session_factory() as db, db.begin():
        await upsert_calls(db, [record])
    return record


async def test_the_dpo_sees_an_overdue_call_and_the_reading_is_audited(
    client, person, clock, overdue, session_factory
):
    """The page says one call is past its date and why that matters; the API says the same;
    each reading is one ``retention.report`` entry naming the dpo."""
    await sign_in(client, await person("dora", Role.DPO), clock)
    calls_page = await (await client.get("/calls")).text()
    assert 'href="/retention"' in calls_page
    response = await client.get("/retention")
    assert response.status == 200
    page = await response.text()
    assert '<dd id="overdue-calls">1</dd>' in page
    assert "1 call kept past their deletion date" in page
    api = await client.get("/api/retention/report")
    assert api.status == 200
    body = await api.json()
    assert (body["overdue"], body["overdue_calls"]) == (True, 1)
    assert {line["name"]: line["kept"] for line in body["policies"]}["days-7"] == 1
    async with session_factory() as db:
        entries = list(
            await db.scalars(select(AuditEntry).where(AuditEntry.action == "retention.report"))
        )
    assert [entry.actor for entry in entries] == ["dora", "dora"]
    assert json.loads(entries[0].detail)["overdue_calls"] == 1


async def test_nothing_overdue_reads_as_such(client, person, clock, calls):
    """With only recent calls the page says nothing is kept past its date."""
    await sign_in(client, await person("dora", Role.DPO), clock)
    page = await (await client.get("/retention")).text()
    assert 'id="verdict"' in page
    assert (await (await client.get("/api/retention/report")).json())["overdue"] is False


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.DIRECTOR, Role.ADMIN])
async def test_other_roles_may_not_read_the_report(client, person, clock, role, session_factory):
    """Only the dpo: everyone else gets 403 on the page and the API, no link, no entry."""
    await sign_in(client, await person("olaf", role, extension="100"), clock)
    assert 'href="/retention"' not in await (await client.get("/calls")).text()
    assert (await client.get("/retention")).status == 403
    assert (await client.get("/api/retention/report")).status == 403
    async with session_factory() as db:
        found = await db.scalars(select(AuditEntry).where(AuditEntry.action == "retention.report"))
        assert list(found) == []


async def test_the_page_is_in_the_dpo_s_language(client, person, clock):
    """A Polish-speaking dpo reads the report in Polish."""
    await sign_in(client, await person("dorota", Role.DPO, language="pl"), clock)
    page = await (await client.get("/retention")).text()
    assert "Raport przechowywania" in page
    assert "Nic nie jest przechowywane po terminie." in page
