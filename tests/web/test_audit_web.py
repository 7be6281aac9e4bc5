"""The audit trail in the web app: the dpo reads it page by page, exports it with its hashes
and checks the chain; each of those is itself recorded; nobody else gets in."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
from sqlalchemy import select

from callrec_ari.access import Role
from callrec_ari.audit.chain import GENESIS, Link, canonical_json, link_hash
from callrec_ari.audit.read import EXPORT_FIELDS
from callrec_ari.db.models import AuditEntry
from tests.audit.conftest import add_entries, tamper
from tests.web.conftest import csrf, sign_in, web_config

PAGE = 4


@pytest.fixture
def settings(tmp_path, database_url):
    """Pages of four entries, so that paging shows with few entries."""
    (tmp_path / "recordings").mkdir()
    return web_config(tmp_path, database_url, page_size=PAGE)


@pytest.fixture
async def dpo(client, person, clock, session_factory):
    """Ten older entries, then Anna, the data-protection officer, signed in."""
    await add_entries(session_factory, 10)
    anna = await person("anna", Role.DPO)
    await sign_in(client, anna, clock)
    return anna


async def entries(session_factory, action):
    async with session_factory() as db:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        return list(await db.scalars(query))


async def test_the_dpo_reads_the_trail_page_by_page(client, dpo, session_factory):
    """Newest first, PAGE at a time, older pages by seq; filters narrow it; each read is
    recorded as audit.read."""
    first = await (await client.get("/api/audit")).json()
    seqs = [entry["seq"] for entry in first["entries"]]
    assert len(seqs) == PAGE
    assert seqs == sorted(seqs, reverse=True)
    assert first["next_before"] == seqs[-1]
    older = await (await client.get("/api/audit", params={"before": seqs[-1]})).json()
    assert all(entry["seq"] < seqs[-1] for entry in older["entries"])
    page = await (await client.get("/audit", params={"actor": "piotr"})).text()
    assert "piotr" in page
    assert "Older entries" in page
    only = await (
        await client.get("/api/audit", params={"action": "hold", "until": "2026-11-24"})
    ).json()
    assert {entry["action"] for entry in only["entries"]} == {"hold.place"}
    for entry in only["entries"]:
        assert datetime.fromisoformat(entry["at"]).date().isoformat() == "2026-11-24"
    reads = await entries(session_factory, "audit.read")
    assert len(reads) == 4
    assert {read.actor for read in reads} == {"anna"}
    assert json.loads(reads[-1].detail)["action"] == "hold"


async def test_bad_filters_are_refused_in_one_sentence(client, dpo):
    """An unreadable date, a reversed period or a bad page marker: 400 with the reason."""
    since = await client.get("/api/audit", params={"since": "yesterday"})
    assert since.status == 400
    assert "since" in (await since.json())["error"]
    reversed_ = await client.get("/audit", params={"since": "2026-11-25", "until": "2026-11-24"})
    assert reversed_.status == 400
    assert (await client.get("/api/audit", params={"before": "x"})).status == 400


async def test_the_export_downloads_with_its_hashes(client, dpo, session_factory):
    """JSON Lines oldest first whose hashes recompute and chain; CSV with its header; both
    recorded as audit.export."""
    token = await csrf(client, "/calls")
    response = await client.post(
        "/api/audit/export", json={"format": "jsonl"}, headers={"X-CSRF-Token": token}
    )
    assert response.status == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Content-Disposition"].endswith('.jsonl"')
    lines = [json.loads(line) for line in (await response.text()).splitlines()]
    assert len(lines) >= 10
    previous = GENESIS
    for record in lines:
        link = Link(
            seq=record["seq"],
            at=datetime.fromisoformat(record["at"]),
            actor=record["actor"],
            action=record["action"],
            target=record["target"],
            detail=canonical_json(record["detail"]),
            client=record["client"],
            prev_hash=record["prev_hash"],
        )
        assert record["prev_hash"] == previous
        assert link_hash(link) == record["hash"]
        previous = record["hash"]

    form = await client.post(
        "/audit/export",
        data={"csrf": token, "format": "csv", "since": "2026-11-24", "until": "2026-11-24"},
    )
    assert form.status == 200
    assert form.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(await form.text())))
    assert tuple(rows[0]) == EXPORT_FIELDS
    assert len(rows) > 1
    assert all(row[1].startswith("2026-11-24") for row in rows[1:])
    exports = await entries(session_factory, "audit.export")
    assert [json.loads(e.detail)["format"] for e in exports] == ["jsonl", "csv"]
    bad = await client.post(
        "/api/audit/export", json={"format": "xml"}, headers={"X-CSRF-Token": token}
    )
    assert bad.status == 400
    assert "xml" in (await bad.json())["error"]


async def test_the_chain_check_shows_the_head_hash(client, dpo, session_factory):
    """An intact chain with the head hash to write down; the check is itself recorded."""
    page = await (await client.get("/audit/verify")).text()
    assert 'id="intact"' in page
    [check] = await entries(session_factory, "audit.verify")
    assert f'<code id="head-hash">{check.prev_hash}</code>' in page
    body = await (await client.get("/api/audit/verify")).json()
    assert body["intact"] is True
    assert body["problems"] == []
    assert body["head_seq"] == check.seq


async def test_an_edited_entry_shows_on_the_check(client, dpo, session_factory):
    """Someone with database rights edits an entry: the page says which one."""
    await tamper(session_factory, "UPDATE audit_log SET actor = 'nobody' WHERE seq = 3")
    page = await (await client.get("/audit/verify")).text()
    assert 'id="broken"' in page
    assert "Entry 3 was edited" in page
    body = await (await client.get("/api/audit/verify")).json()
    assert body["intact"] is False
    assert body["problems"][0]["kind"] == "edited"


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.AGENT, Role.DIRECTOR, Role.ADMIN])
async def test_nobody_else_reads_the_trail(client, person, clock, session_factory, role):
    """Every audit page and API answers 403, and no reading is recorded."""
    who = await person("someone", role, extension="agent100")
    await sign_in(client, who, clock)
    token = await csrf(client, "/calls")
    for path in ["/audit", "/api/audit", "/audit/verify", "/api/audit/verify"]:
        response = await client.get(path)
        assert response.status == 403, path
    form = await client.post("/audit/export", data={"csrf": token, "format": "csv"})
    assert form.status == 403
    assert "roles" in await form.text()
    answer = await client.post(
        "/api/audit/export", json={"format": "csv"}, headers={"X-CSRF-Token": token}
    )
    assert answer.status == 403
    assert "roles" in (await answer.json())["error"]
    for action in ("audit.read", "audit.export", "audit.verify"):
        assert await entries(session_factory, action) == []


async def test_details_read_as_stored_json_not_python(client, dpo):
    """The page shows a detail's values as the stored JSON says them (false, ["dpo"]), not
    in Python's spelling (False, ['dpo'])."""
    page = await (await client.get("/audit", params={"action": "user"})).text()
    assert "roles:</span> [&#34;dpo&#34;]" in page
    assert "False" not in page
    assert "None" not in page
