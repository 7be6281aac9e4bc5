"""The admin's screens: users and roles, two-factor exemptions, locks, settings, and 403s."""

from __future__ import annotations

import re

import pyotp
from aiohttp import FormData
from sqlalchemy import select

from callrec_ari.access import Role
from callrec_ari.db.models import AuditEntry
from tests.web.conftest import PASSWORD, csrf, csrf_of, sign_in, sign_out

NEW_PASSWORD = "a fresh and rather long passphrase"


async def trail(session_factory) -> list[tuple[str, str, str | None]]:
    async with session_factory() as db:
        rows = await db.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        return [(row.actor, row.action, row.target) for row in rows]


async def post_api(client, path, body=None):
    token = await csrf(client, "/calls")
    return await client.post(path, json=body or {}, headers={"X-CSRF-Token": token})


async def post_form(client, path, fields, page="/admin/users"):
    token = await csrf(client, page)
    return await client.post(path, data=[("csrf", token), *fields], allow_redirects=False)


async def post_login(client, username, password=PASSWORD):
    token = await csrf(client)
    return await client.post(
        "/login",
        data={"csrf": token, "username": username, "password": password, "next": "/calls"},
        allow_redirects=False,
    )


async def enrol(client, clock) -> str:
    """Finish a first sign-in that was sent to enrolment; the new TOTP secret."""
    page = await (await client.get("/login/enrol")).text()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    done = await client.post(
        "/login/enrol",
        data={"csrf": csrf_of(page), "code": pyotp.TOTP(secret).at(clock())},
        allow_redirects=False,
    )
    assert done.headers["Location"] == "/calls"
    return secret


async def user_id(client, username) -> int:
    users = (await (await client.get("/api/admin/users")).json())["users"]
    return next(user["id"] for user in users if user["username"] == username)


async def test_a_created_user_signs_in_and_sets_up_two_factor(
    client, person, clock, session_factory
):
    """Created on the form with two roles; the first sign-in asks for the authenticator."""
    ada = await person("ada", Role.ADMIN)
    await sign_in(client, ada, clock)
    page = await (await client.get("/admin/users")).text()
    assert 'action="/admin/users"' in page
    assert 'href="/admin/prompts"' in page  # the admin's links in the menu
    created = await post_form(
        client,
        "/admin/users",
        [
            ("username", "Maja"),
            ("display_name", "Maja Nowak"),
            ("roles", "supervisor"),
            ("roles", "dpo"),
            ("extension", ""),
            ("language", "pl"),
            ("password", NEW_PASSWORD),
            ("repeat", NEW_PASSWORD),
        ],
    )
    assert created.status == 303, await created.text()
    maja_id = await user_id(client, "maja")
    assert created.headers["Location"] == f"/admin/users/{maja_id}"
    shown = await (await client.get(f"/api/admin/users/{maja_id}")).json()
    assert shown["roles"] == ["supervisor"]  # dpo waits for a second admin
    assert [grant["role"] for grant in shown["pending_grants"]] == ["dpo"]
    assert shown["two_factor"] == "pending"
    assert "Maja Nowak" in await (await client.get("/admin/users")).text()
    await sign_out(client, clock)

    await sign_in(client, await person("bea", Role.ADMIN), clock)
    grant_id = shown["pending_grants"][0]["id"]
    assert (
        f'action="/admin/grants/{grant_id}/approve"'
        in await (await client.get("/admin/users")).text()
    )
    approved = await post_form(client, f"/admin/grants/{grant_id}/approve", [])
    assert approved.status == 303
    await sign_out(client, clock)

    response = await post_login(client, "maja", NEW_PASSWORD)
    assert response.headers["Location"] == "/login/enrol"  # no way round the second factor
    await enrol(client, clock)
    me = await (await client.get("/api/me")).json()
    assert (me["roles"], me["language"]) == (["dpo", "supervisor"], "pl")
    assert (await client.get("/admin/users")).status == 403
    assert ("ada", "user.create", "user:maja") in await trail(session_factory)


async def test_roles_change_what_a_user_may_open(client, person, clock, session_factory):
    """An agent gets the supervisor role: the releases open; taken away, they close again."""
    ada = await person("ada", Role.ADMIN)
    piotr = await person("piotr", Role.AGENT, extension="agent100")
    await sign_in(client, piotr, clock)
    assert (await client.get("/releases")).status == 403
    await sign_out(client, clock)

    await sign_in(client, ada, clock)
    piotr_id = await user_id(client, "piotr")
    changed = await post_form(
        client,
        f"/admin/users/{piotr_id}/roles",
        [("roles", "agent"), ("roles", "supervisor")],
    )
    assert changed.status == 303
    await sign_out(client, clock)
    await sign_in(client, piotr, clock)
    assert (await client.get("/releases")).status == 200
    await sign_out(client, clock)

    await sign_in(client, ada, clock)
    back = await post_api(client, f"/api/admin/users/{piotr_id}/roles", {"roles": ["agent"]})
    assert (await back.json())["roles"] == ["agent"]
    extension = await post_api(
        client, f"/api/admin/users/{piotr_id}/extension", {"extension": "agent200"}
    )
    assert (await extension.json())["extension"] == "agent200"
    await sign_out(client, clock)
    await sign_in(client, piotr, clock)
    assert (await client.get("/releases")).status == 403
    actions = [action for actor, action, _ in await trail(session_factory) if actor == "ada"]
    assert actions.count("user.roles") == 2
    assert "user.extension" in actions


async def test_an_exempted_user_signs_in_without_a_code(client, person, clock, session_factory):
    """Exempted explicitly, the password alone signs in; the exemption ended, enrolment."""
    ada = await person("ada", Role.ADMIN)
    await person("kiosk", Role.SUPERVISOR, enrolled=False)
    await sign_in(client, ada, clock)
    kiosk_id = await user_id(client, "kiosk")
    page = await (await client.get(f"/admin/users/{kiosk_id}")).text()
    assert 'name="exempt" value="yes"' in page
    exempted = await post_form(
        client, f"/admin/users/{kiosk_id}/two-factor-exempt", [("exempt", "yes")]
    )
    assert exempted.status == 303
    listed = await (await client.get("/api/admin/users")).json()
    assert {user["username"]: user["two_factor"] for user in listed["users"]}["kiosk"] == "pending"
    [waiting] = (await (await client.get("/api/admin/grants")).json())["grants"]
    await sign_out(client, clock)
    await sign_in(client, await person("bea", Role.ADMIN), clock)
    approved = await post_api(client, f"/api/admin/grants/{waiting['id']}/approve")
    assert (await approved.json())["outcome"] == "approved"
    listed = await (await client.get("/api/admin/users")).json()
    assert {user["username"]: user["two_factor"] for user in listed["users"]}["kiosk"] == "exempt"
    await sign_out(client, clock)

    signed = await post_login(client, "kiosk")
    assert signed.headers["Location"] == "/calls"
    assert (await client.get("/api/me")).status == 200
    await sign_out(client, clock)

    await sign_in(client, ada, clock)
    ended = await post_api(
        client, f"/api/admin/users/{kiosk_id}/two-factor-exempt", {"exempt": False}
    )
    assert (await ended.json())["two_factor"] == "pending"
    await sign_out(client, clock)
    assert (await post_login(client, "kiosk")).headers["Location"] == "/login/enrol"
    exemptions = [entry for entry in await trail(session_factory) if entry[0] in {"ada", "bea"}]
    assert [entry for entry in exemptions if entry[2] == "user:kiosk"] == [
        ("ada", "grant.request", "user:kiosk"),
        ("bea", "grant.approve", "user:kiosk"),
        ("ada", "user.totp_exempt", "user:kiosk"),
    ]


async def test_reset_unlock_and_a_new_password(client, person, clock, session_factory):
    """A lost phone, a lock-out and a forgotten password, each undone by the admin."""
    ada = await person("ada", Role.ADMIN)
    await person("ola", Role.SUPERVISOR)
    for _ in range(5):
        await post_login(client, "ola", "not the password at all")
    assert (await post_login(client, "ola")).status == 401  # locked
    await sign_in(client, ada, clock)
    ola_id = await user_id(client, "ola")
    page = await (await client.get(f"/admin/users/{ola_id}")).text()
    assert f'action="/admin/users/{ola_id}/unlock"' in page
    unlocked = await post_form(client, f"/admin/users/{ola_id}/unlock", [])
    assert unlocked.status == 303
    reset = await post_api(client, f"/api/admin/users/{ola_id}/two-factor-reset")
    assert (await reset.json())["two_factor"] == "pending"
    differ = await post_form(
        client,
        f"/admin/users/{ola_id}/password",
        [("password", NEW_PASSWORD), ("repeat", NEW_PASSWORD + "!")],
    )
    assert differ.status == 400
    assert "The two passwords differ." in await differ.text()
    short = await post_api(client, f"/api/admin/users/{ola_id}/password", {"password": "short"})
    assert short.status == 400
    assert "at least" in (await short.json())["error"]
    changed = await post_form(
        client,
        f"/admin/users/{ola_id}/password",
        [("password", NEW_PASSWORD), ("repeat", NEW_PASSWORD)],
    )
    assert changed.status == 303
    await sign_out(client, clock)

    assert (await post_login(client, "ola")).status == 401  # the old password
    response = await post_login(client, "ola", NEW_PASSWORD)
    assert response.headers["Location"] == "/login/enrol"
    await enrol(client, clock)
    ada_actions = {action for actor, action, _ in await trail(session_factory) if actor == "ada"}
    assert {"user.unlock", "user.totp_reset", "user.password"} <= ada_actions


async def test_a_disabled_user_cannot_sign_in_until_enabled(client, person, clock):
    """Disabled on the form, the right password is refused; enabled again, it works."""
    ada = await person("ada", Role.ADMIN)
    sue = await person("sue", Role.SUPERVISOR)
    await sign_in(client, ada, clock)
    sue_id = await user_id(client, "sue")
    disabled = await post_form(client, f"/admin/users/{sue_id}/disabled", [("disabled", "yes")])
    assert disabled.status == 303
    assert "disabled" in await (await client.get("/admin/users")).text()
    await sign_out(client, clock)
    assert (await post_login(client, "sue")).status == 401
    await sign_in(client, ada, clock)
    enabled = await post_api(client, f"/api/admin/users/{sue_id}/disabled", {"disabled": "no"})
    assert (await enabled.json())["disabled"] is False
    await sign_out(client, clock)
    await sign_in(client, sue, clock)


async def test_the_last_admin_cannot_be_removed(client, person, clock, session_factory):
    """Disabling the only active admin is refused in one sentence; changing one's own roles,
    whoever else is admin, is refused too."""
    ada = await person("ada", Role.ADMIN)
    await sign_in(client, ada, clock)
    ada_id = await user_id(client, "ada")
    refused = await post_api(client, f"/api/admin/users/{ada_id}/roles", {"roles": ["agent"]})
    assert refused.status == 403
    assert "may not change the roles of their own account" in (await refused.json())["error"]
    disabled = await post_api(client, f"/api/admin/users/{ada_id}/disabled", {"disabled": True})
    assert disabled.status == 400
    assert "last active admin" in (await disabled.json())["error"]
    assert (await client.get("/admin/users")).status == 200  # still admin
    actions = {action for _, action, _ in await trail(session_factory)}
    assert not actions & {"user.roles", "user.disable"}  # refused changes leave no entry


async def test_bad_input_is_one_sentence(client, person, clock):
    """A taken username keeps the form filled in (not the password); other mistakes are 400s."""
    ada = await person("ada", Role.ADMIN)
    await sign_in(client, ada, clock)
    taken = await post_form(
        client,
        "/admin/users",
        [
            ("username", "ada"),
            ("display_name", "Ada Again"),
            ("roles", "agent"),
            ("password", NEW_PASSWORD),
            ("repeat", NEW_PASSWORD),
        ],
    )
    assert taken.status == 400
    page = await taken.text()
    assert "User ada already exists." in page
    assert 'value="Ada Again"' in page
    assert NEW_PASSWORD not in page
    no_role = await post_api(
        client,
        "/api/admin/users",
        {"username": "bob", "display_name": "Bob", "roles": [], "password": NEW_PASSWORD},
    )
    assert (await no_role.json())["error"] == "A user needs at least one role."
    wrong_role = await post_api(
        client,
        "/api/admin/users",
        {"username": "bob", "display_name": "Bob", "roles": ["root"], "password": NEW_PASSWORD},
    )
    assert wrong_role.status == 400
    ada_id = await user_id(client, "ada")
    maybe = await post_api(client, f"/api/admin/users/{ada_id}/disabled", {"disabled": "maybe"})
    assert (await maybe.json())["error"] == "The field disabled must be yes or no."
    assert (await post_api(client, "/api/admin/users/99999/unlock")).status == 404
    assert (await client.get("/admin/users/99999")).status == 404
    created = await post_api(
        client,
        "/api/admin/users",
        {"username": "bob", "display_name": "Bob", "roles": ["agent"], "password": NEW_PASSWORD},
    )
    assert created.status == 201
    assert (await created.json())["two_factor"] == "pending"


async def test_the_settings_show_config_and_changes(client, person, clock, settings):
    """Retention policies and every DID route, as config.toml sets them until changed."""
    await sign_in(client, await person("ada", Role.ADMIN), clock)
    page = await (await client.get("/admin/settings")).text()
    assert "config.toml" in page
    assert "5552000" in page
    assert 'id="route-form"' in page
    body = await (await client.get("/api/admin/settings")).json()
    assert {"name": "days-7", "days": 7} in body["retention"]
    routes = {route["did"]: route for route in body["routes"]}
    assert routes["5552000"]["languages"] == ["fi", "sv"]
    assert routes["5554000"]["on_decline"] == "hangup"
    assert routes[None]["retention_days"] == settings.retention["months-6"].days


async def test_the_admin_changes_a_policy_and_a_route(client, person, clock, session_factory):
    """Saved, shown at once, audited; a route naming no policy is one clear 400."""
    await sign_in(client, await person("ada", Role.ADMIN), clock)
    token = await csrf(client, "/admin/settings")
    headers = {"X-CSRF-Token": token}
    saved = await client.post(
        "/api/admin/settings/policies", json={"name": "days-7", "days": 14}, headers=headers
    )
    assert saved.status == 200
    route = {"did": "5559000", "languages": "ro, en", "retention": "days-7", "on_decline": "hangup"}
    assert (await client.post("/api/admin/settings/routes", json=route, headers=headers)).ok
    body = await (await client.get("/api/admin/settings")).json()
    assert {"name": "days-7", "days": 14} in body["retention"]
    routes = {row["did"]: row for row in body["routes"]}
    assert routes["5559000"]["languages"] == ["ro", "en"]
    assert routes["5559000"]["retention_days"] == 14
    unknown = {**route, "retention": "forever"}
    refused = await client.post("/api/admin/settings/routes", json=unknown, headers=headers)
    assert refused.status == 400
    assert "forever" in (await refused.json())["error"]
    removed = await client.post(
        "/api/admin/settings/routes/remove", json={"did": "5559000"}, headers=headers
    )
    assert removed.status == 200
    body = await (await client.get("/api/admin/settings")).json()
    assert "5559000" not in {row["did"] for row in body["routes"]}
    async with session_factory() as db:
        actions = [
            entry.action
            for entry in await db.scalars(select(AuditEntry).order_by(AuditEntry.seq))
            if entry.action.startswith("settings.")
        ]
    assert actions == ["settings.policy", "settings.route", "settings.route.remove"]


ADMIN_PAGES = ["/admin/users", "/admin/users/{id}", "/admin/prompts", "/admin/settings"]
ADMIN_POSTS = [
    "/admin/users",
    *(
        f"/admin/users/{{id}}/{change}"
        for change in (
            "roles",
            "extension",
            "two-factor-exempt",
            "two-factor-reset",
            "unlock",
            "password",
            "disabled",
        )
    ),
    "/admin/prompts",
]


async def test_no_other_role_opens_an_admin_screen(client, person, clock, session_factory):
    """Supervisor, agent, dpo and director get 403 from every admin page and API call."""
    await person("ada", Role.ADMIN)
    others = [
        await person("sue", Role.SUPERVISOR),
        await person("piotr", Role.AGENT, extension="agent100"),
        await person("dora", Role.DPO),
        await person("eva", Role.DIRECTOR),
        await person("all", Role.SUPERVISOR, Role.AGENT, Role.DPO, Role.DIRECTOR),
    ]
    before = await trail(session_factory)
    target = "1"
    for who in others:
        await sign_in(client, who, clock)
        assert "/admin/" not in await (await client.get("/calls")).text()
        token = await csrf(client, "/calls")
        for path in ADMIN_PAGES:
            for url in (path, "/api" + path):
                response = await client.get(url.format(id=target))
                assert response.status == 403, (who.username, url)
        for path in ADMIN_POSTS:
            url = path.format(id=target)
            form = FormData({"csrf": token, "language": "en", "prompt": "announcement"})
            form.add_field("file", b"RIFF", filename="a.wav", content_type="audio/wav")
            page = await client.post(url, data=form, allow_redirects=False)
            assert page.status == 403, (who.username, url)
            api = await client.post(
                "/api" + url,
                json={"roles": ["admin"], "password": NEW_PASSWORD, "exempt": True},
                headers={"X-CSRF-Token": token},
            )
            assert api.status == 403, (who.username, url)
            assert "error" in await api.json()
        await sign_out(client, clock)
    new_actions = {action for _, action, _ in (await trail(session_factory))[len(before) :]}
    assert not {action for action in new_actions if action.startswith(("user.", "prompt."))}


async def test_signed_out_the_admin_api_asks_to_sign_in(client):
    """No session: the API answers 401, the pages send to the sign-in page."""
    assert (await client.get("/api/admin/users")).status == 401
    page = await client.get("/admin/users", allow_redirects=False)
    assert page.headers["Location"] == "/login?next=/admin/users"
