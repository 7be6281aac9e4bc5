"""The pen test's attacks on the admin's screens, repeated: self-grants refused, four eyes."""

from __future__ import annotations

from sqlalchemy import select

from callrec_ari.access import Role
from callrec_ari.db.models import AuditEntry
from tests.web.conftest import PASSWORD, csrf, sign_in, sign_out


async def post_api(client, path, body=None):
    token = await csrf(client, "/calls")
    return await client.post(path, json=body or {}, headers={"X-CSRF-Token": token})


async def my_id(client) -> int:
    users = (await (await client.get("/api/admin/users")).json())["users"]
    me = (await (await client.get("/api/me")).json())["username"]
    return next(user["id"] for user in users if user["username"] == me)


async def grant_entries(session_factory) -> list[tuple[str, str, str | None]]:
    async with session_factory() as db:
        rows = await db.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        return [(r.actor, r.action, r.target) for r in rows if r.action.startswith("grant.")]


async def test_an_admin_giving_themselves_director_is_refused(client, person, clock):
    """POST /api/admin/users/{self}/roles with director: 403, and no release page opens."""
    ada = await person("ada", Role.ADMIN)
    await person("bob", Role.ADMIN)
    await sign_in(client, ada, clock)
    me = await my_id(client)
    refused = await post_api(
        client, f"/api/admin/users/{me}/roles", {"roles": ["admin", "director"]}
    )
    assert refused.status == 403
    body = await refused.json()
    assert body["error"] == (
        "ada may not change the roles of their own account: another admin must do it."
    )
    assert (await (await client.get("/api/admin/grants")).json())["grants"] == []
    assert (await client.get("/releases")).status == 403


async def test_an_admin_exempting_themselves_from_two_factor_is_refused(client, person, clock):
    """POST /api/admin/users/{self}/two-factor-exempt: 403; the password alone still fails."""
    ada = await person("ada", Role.ADMIN)
    await sign_in(client, ada, clock)
    me = await my_id(client)
    refused = await post_api(client, f"/api/admin/users/{me}/two-factor-exempt", {"exempt": True})
    assert refused.status == 403
    await sign_out(client, clock)
    token = await csrf(client)
    signed = await client.post(
        "/login",
        data={"csrf": token, "username": "ada", "password": PASSWORD, "next": "/calls"},
        allow_redirects=False,
    )
    assert signed.headers["Location"] == "/login/code"  # still asked for the code


async def test_dpo_for_another_admin_needs_a_third_to_approve(
    client, person, clock, session_factory
):
    """A asks dpo for B: pending; B is no dpo; A cannot approve; C approves; B is dpo."""
    ada = await person("ada", Role.ADMIN)
    ben = await person("ben", Role.ADMIN)
    cleo = await person("cleo", Role.ADMIN)
    await sign_in(client, ada, clock)
    users = (await (await client.get("/api/admin/users")).json())["users"]
    ben_id = next(user["id"] for user in users if user["username"] == "ben")
    asked = await post_api(client, f"/api/admin/users/{ben_id}/roles", {"roles": ["admin", "dpo"]})
    answer = await asked.json()
    assert answer["roles"] == ["admin"]
    [grant] = answer["pending_grants"]
    shown = await (await client.get(f"/admin/users/{ben_id}")).text()
    assert 'id="waiting"' in shown  # the account's page says dpo waits for a second admin
    mine = await post_api(client, f"/api/admin/grants/{grant['id']}/approve")
    assert mine.status == 403
    assert "may not approve it" in (await mine.json())["error"]
    await sign_out(client, clock)

    await sign_in(client, ben, clock)
    assert (await client.get("/api/requests")).status == 403  # not a dpo yet
    own = await post_api(client, f"/api/admin/grants/{grant['id']}/approve")
    assert own.status == 403  # nor by approving it himself
    await sign_out(client, clock)

    await sign_in(client, cleo, clock)
    page = await (await client.get("/admin/users")).text()
    assert f'action="/admin/grants/{grant["id"]}/approve"' in page
    approved = await post_api(client, f"/api/admin/grants/{grant['id']}/approve")
    assert (await approved.json())["decided_by"] == "cleo"
    await sign_out(client, clock)

    await sign_in(client, ben, clock)
    assert (await client.get("/api/requests")).status == 200
    assert await grant_entries(session_factory) == [
        ("ada", "grant.request", "user:ben"),
        ("cleo", "grant.approve", "user:ben"),
    ]


async def test_a_refusal_on_the_page_is_shown_and_changes_nothing(client, person, clock):
    """Approving a grant already decided: the users page says so in one sentence."""
    ada = await person("ada", Role.ADMIN)
    await person("eva", Role.AGENT)
    cleo = await person("cleo", Role.ADMIN)
    await sign_in(client, ada, clock)
    users = (await (await client.get("/api/admin/users")).json())["users"]
    eva_id = next(user["id"] for user in users if user["username"] == "eva")
    asked = await post_api(
        client, f"/api/admin/users/{eva_id}/two-factor-exempt", {"exempt": "yes"}
    )
    [grant] = (await asked.json())["pending_grants"]
    withdrawn = await post_api(client, f"/api/admin/grants/{grant['id']}/refuse")
    assert (await withdrawn.json())["outcome"] == "withdrawn"
    await sign_out(client, clock)
    await sign_in(client, cleo, clock)
    token = await csrf(client, "/admin/users")
    late = await client.post(f"/admin/grants/{grant['id']}/approve", data={"csrf": token})
    assert late.status == 400
    assert f"Grant {grant['id']} was withdrawn already." in await late.text()
    everything = await (await client.get("/api/admin/grants?all=yes")).json()
    assert [g["outcome"] for g in everything["grants"]] == ["withdrawn"]
