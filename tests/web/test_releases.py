"""Releases in the web app: asked on a call, decided by the director, downloaded once."""

from __future__ import annotations

from sqlalchemy import select

from callrec_ari.access import Role
from callrec_ari.db.models import Release
from tests.web.conftest import csrf, sign_in, sign_out

GROUND = "Court order II C 118/26 of the district court"


async def ask(client, uniqueid):
    token = await csrf(client, "/calls")
    return await client.post(
        f"/api/calls/{uniqueid}/releases",
        json={"recipient": "District Court, Warsaw", "legal_ground": GROUND},
        headers={"X-CSRF-Token": token},
    )


async def decide(client, release_id, decision, note=None):
    token = await csrf(client, "/releases")
    return await client.post(
        f"/api/releases/{release_id}/decision",
        json={"decision": decision, "note": note},
        headers={"X-CSRF-Token": token},
    )


async def test_an_approved_release_downloads_once_for_the_asker(
    client, person, clock, calls, settings
):
    """Asked by the supervisor, approved by the director, fetched once by the supervisor."""
    sue = await person("sue", Role.SUPERVISOR)
    eva = await person("eva", Role.DIRECTOR)
    await sign_in(client, sue, clock)
    asked = await ask(client, calls[0].uniqueid)
    assert asked.status == 201
    release_id = (await asked.json())["id"]
    early = await client.get(f"/releases/{release_id}/download")
    assert early.status == 403  # not approved yet: refused, and audited as such
    await sign_out(client, clock)

    await sign_in(client, eva, clock)
    decided = await decide(client, release_id, "approve")
    assert (await decided.json())["status"] == "approved"
    assert (await client.get(f"/releases/{release_id}/download")).status == 403  # not hers
    await sign_out(client, clock)

    await sign_in(client, sue, clock)
    page = await (await client.get("/releases")).text()
    assert f'href="/releases/{release_id}/download"' in page
    first = await client.get(f"/releases/{release_id}/download")
    assert first.status == 200
    wav = settings.recording.service_dir / str(calls[0].recording_path)
    assert await first.read() == wav.read_bytes()
    assert "attachment" in first.headers["Content-Disposition"]
    second = await client.get(f"/releases/{release_id}/download")
    assert second.status == 403
    listed = await (await client.get("/api/releases")).json()
    assert listed["releases"][0]["status"] == "used"


async def test_the_token_in_the_database_is_sealed(client, person, clock, calls, session_factory):
    """Reading the database gives neither the token nor anything to download with."""
    sue = await person("sue", Role.SUPERVISOR)
    eva = await person("eva", Role.DIRECTOR)
    await sign_in(client, sue, clock)
    release_id = (await (await ask(client, calls[0].uniqueid)).json())["id"]
    await sign_out(client, clock)
    await sign_in(client, eva, clock)
    await decide(client, release_id, "approve")
    async with session_factory() as db:
        row = (await db.scalars(select(Release).where(Release.id == release_id))).one()
    assert row.token_sealed is not None
    assert row.token_sha256 not in row.token_sealed
    assert len(row.token_sealed) > 80


async def test_a_link_expires(client, person, clock, calls):
    """After release_valid_hours the approved link no longer works."""
    sue = await person("sue", Role.SUPERVISOR)
    eva = await person("eva", Role.DIRECTOR)
    await sign_in(client, sue, clock)
    release_id = (await (await ask(client, calls[0].uniqueid)).json())["id"]
    await sign_out(client, clock)
    await sign_in(client, eva, clock)
    await decide(client, release_id, "approve")
    await sign_out(client, clock)
    clock.advance(hours=73)
    await sign_in(client, sue, clock)
    expired = await client.get(f"/releases/{release_id}/download")
    assert expired.status == 403
    assert "expired" in await expired.text()
    listed = await (await client.get("/api/releases")).json()
    assert listed["releases"][0]["status"] == "expired"


async def test_a_refusal_needs_a_reason_and_ends_it(client, person, clock, calls):
    """Refusing without a note is refused; with one, the release is refused for good."""
    sue = await person("sue", Role.SUPERVISOR)
    eva = await person("eva", Role.DIRECTOR)
    await sign_in(client, sue, clock)
    release_id = (await (await ask(client, calls[0].uniqueid)).json())["id"]
    await sign_out(client, clock)
    await sign_in(client, eva, clock)
    assert (await decide(client, release_id, "refuse")).status == 400
    refused = await decide(client, release_id, "refuse", note="No legal ground shown.")
    assert (await refused.json())["status"] == "refused"
    assert (await decide(client, release_id, "approve")).status == 400


async def test_only_the_director_decides_and_agents_cannot_ask(client, person, clock, calls):
    """A supervisor cannot approve; an agent cannot ask, even for their own call."""
    sue = await person("sue", Role.SUPERVISOR)
    piotr = await person("piotr", Role.AGENT, extension="agent100")
    await sign_in(client, sue, clock)
    release_id = (await (await ask(client, calls[0].uniqueid)).json())["id"]
    assert (await decide(client, release_id, "approve")).status == 403
    await sign_out(client, clock)
    await sign_in(client, piotr, clock)
    assert (await ask(client, calls[0].uniqueid)).status == 403
    assert (await client.get("/api/releases")).status == 403
