"""Signing in and out of the web app: two factors, lock-out, lifetimes, CSRF, headers."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from callrec_ari.access import Actor, Role
from callrec_ari.db.models import AuditEntry
from callrec_ari.staff import accounts
from tests.support.passwords import CHEAP_PASSWORDS
from tests.web.conftest import PASSWORD, csrf, csrf_of, sign_in


async def actions(session_factory) -> list[tuple[str, str]]:
    async with session_factory() as db:
        rows = await db.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        return [(row.actor, row.action) for row in rows]


async def post_login(client, username, password, next_url="/calls"):
    token = await csrf(client)
    return await client.post(
        "/login",
        data={"csrf": token, "username": username, "password": password, "next": next_url},
        allow_redirects=False,
    )


async def test_password_then_code_signs_in(client, person, clock, session_factory):
    """The right password asks for the code; the right code opens the calls."""
    anna = await person("anna", Role.SUPERVISOR)
    await sign_in(client, anna, clock)
    me = await (await client.get("/api/me")).json()
    assert me["username"] == "anna"
    assert me["roles"] == ["supervisor"]
    assert ("anna", "login") in await actions(session_factory)


async def test_a_password_alone_opens_nothing(client, person):
    """Between the password and the code, every page still sends you to sign in."""
    await person("anna", Role.SUPERVISOR)
    response = await post_login(client, "anna", PASSWORD)
    assert response.headers["Location"] == "/login/code"
    calls = await client.get("/calls", allow_redirects=False)
    assert calls.status == 303
    assert calls.headers["Location"].startswith("/login")
    assert (await client.get("/api/me")).status == 401


async def test_wrong_password_and_unknown_user_read_the_same(client, person, session_factory):
    """Nobody learns which usernames exist; the failure is counted and audited."""
    await person("anna", Role.SUPERVISOR)
    wrong = await post_login(client, "anna", "not the password at all")
    unknown = await post_login(client, "nobody", "not the password at all")
    assert wrong.status == unknown.status == 401
    assert "Wrong username or password." in await wrong.text()
    assert "Wrong username or password." in await unknown.text()
    assert ("anna", "login.failed") in await actions(session_factory)


async def test_repeated_failures_lock_the_account_for_a_while(client, person, clock):
    """Five wrong passwords lock even the right one out, until the minutes have passed."""
    anna = await person("anna", Role.SUPERVISOR)
    for _ in range(5):
        await post_login(client, "anna", "guessing the password")
    locked = await post_login(client, "anna", PASSWORD)
    assert locked.status == 401
    assert "locked" in (await locked.text()).lower()
    clock.advance(minutes=16)
    await sign_in(client, anna, clock)


async def test_a_wrong_or_replayed_code_is_refused(client, person, clock):
    """A code works once: the same six digits a second time are refused."""
    anna = await person("anna", Role.SUPERVISOR)
    await sign_in(client, anna, clock)
    await client.post("/logout", data={"csrf": await csrf(client, "/calls")})
    await post_login(client, "anna", PASSWORD)
    token = await csrf(client, "/login/code")
    replay = pyotp.TOTP(anna.secret).at(clock())
    response = await client.post("/login/code", data={"csrf": token, "code": replay})
    assert response.status == 401
    assert "Wrong code." in await response.text()
    response = await client.post("/login/code", data={"csrf": token, "code": "12345x"})
    assert response.status == 401


async def test_first_sign_in_enrols_the_authenticator(client, person, clock, session_factory):
    """A new user sees a QR code and key; a mistyped code keeps the same key; then in."""
    await person("ola", Role.AGENT, extension="agent100", enrolled=False)
    response = await post_login(client, "ola", PASSWORD)
    assert response.headers["Location"] == "/login/enrol"
    page = await (await client.get("/login/enrol")).text()
    assert "<svg" in page
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    wrong = await client.post("/login/enrol", data={"csrf": csrf_of(page), "code": "000000"})
    assert wrong.status == 401
    assert secret in await wrong.text()
    right = await client.post(
        "/login/enrol",
        data={"csrf": csrf_of(page), "code": pyotp.TOTP(secret).at(clock())},
        allow_redirects=False,
    )
    assert right.headers["Location"] == "/calls"
    assert (await client.get("/api/me")).status == 200
    assert ("ola", "totp.enrol") in await actions(session_factory)


async def test_an_exempt_user_needs_no_code(client, person, clock):
    """An admin may exempt someone from the second factor, explicitly."""
    kiosk = await person("kiosk", Role.SUPERVISOR, exempt=True)
    await sign_in(client, kiosk, clock)
    assert (await client.get("/api/me")).status == 200


@pytest.mark.parametrize(("minutes", "signed_in"), [(14, True), (16, False)])
async def test_an_idle_session_ends(client, person, clock, minutes, signed_in):
    """Fifteen minutes without a request sign you out."""
    anna = await person("anna", Role.SUPERVISOR)
    await sign_in(client, anna, clock)
    clock.advance(minutes=minutes)
    assert ((await client.get("/api/me")).status == 200) is signed_in


async def test_a_busy_session_still_ends_after_the_maximum(client, person, clock):
    """Even with a request every ten minutes, ten hours after signing in it is over."""
    anna = await person("anna", Role.SUPERVISOR)
    await sign_in(client, anna, clock)
    for _ in range(59):
        clock.advance(minutes=10)
        assert (await client.get("/api/me")).status == 200
    clock.advance(minutes=11)
    assert (await client.get("/api/me")).status == 401


async def test_signing_out_ends_the_session(client, person, clock, session_factory):
    """After signing out, the old cookie opens nothing; the trail says who left."""
    anna = await person("anna", Role.SUPERVISOR)
    await sign_in(client, anna, clock)
    cookies = {cookie.key: cookie.value for cookie in client.session.cookie_jar}
    await client.post("/logout", data={"csrf": await csrf(client, "/calls")})
    assert (await client.get("/api/me")).status == 401
    client.session.cookie_jar.update_cookies(cookies)  # a copied cookie, replayed
    assert (await client.get("/api/me")).status == 401
    assert ("anna", "logout") in await actions(session_factory)


async def test_state_changes_need_the_csrf_token(client, person, clock):
    """A form posted without the session's token, or from another site, is refused."""
    anna = await person("anna", Role.SUPERVISOR)
    await sign_in(client, anna, clock)
    missing = await client.post("/logout", data={})
    assert missing.status == 403
    forged = await client.post("/logout", data={"csrf": "guessed"})
    assert forged.status == 403
    token = await csrf(client, "/calls")
    other_site = await client.post(
        "/logout", data={"csrf": token}, headers={"Origin": "https://evil.example"}
    )
    assert other_site.status == 403
    assert (await client.get("/api/me")).status == 200


async def test_every_answer_carries_strict_headers(client):
    """CSP without inline script, no framing, no sniffing, nothing cached."""
    for path in ["/login", "/static/app.css", "/no-such-page"]:
        response = await client.get(path)
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    page = await (await client.get("/login")).text()
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None
    assert re.search(r"\son[a-z]+=", page) is None
    assert " style=" not in page


async def test_the_session_cookie_is_http_only_and_strict(client):
    """JavaScript cannot read the session, and other sites cannot send it."""
    response = await client.get("/login")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie


async def test_next_never_leads_to_another_site(client, person, clock):
    """A crafted ?next=//evil.example lands on our own calls page."""
    await person("kiosk", Role.SUPERVISOR, exempt=True)
    response = await post_login(client, "kiosk", PASSWORD, next_url="//evil.example/")
    assert response.headers["Location"] == "/calls"


async def test_pages_speak_the_chosen_language(client):
    """The browser's language first; a choice in the menu overrides it."""
    response = await client.get("/login", headers={"Accept-Language": "sv-SE,en;q=0.5"})
    swedish = await response.text()
    assert "Logga in" in swedish
    token = csrf_of(swedish)
    await client.post("/language", data={"csrf": token, "language": "pl", "next": "/login"})
    polish = await (await client.get("/login", headers={"Accept-Language": "sv"})).text()
    assert "Zaloguj" in polish
    assert 'lang="pl"' in polish
    bad = await client.post("/language", data={"csrf": token, "language": "xx"})
    assert bad.status == 400


@pytest.mark.parametrize("change", ["password", "two-factor reset", "disable"])
async def test_an_admin_change_ends_the_person_s_open_sessions(
    client, person, clock, session_factory, change
):
    """A stolen password or phone stops working at once, not at the next sign-in."""
    anna = await person("anna", Role.SUPERVISOR)
    await sign_in(client, anna, clock)
    clock.advance(seconds=5)
    admin = Actor.of("cli:root", Role.ADMIN)
    async with session_factory() as db, db.begin():
        account = await accounts.find_account(db, "anna")
        if change == "password":
            await accounts.set_password(
                db,
                by=admin,
                user_id=account.id,
                password="a brand new passphrase",
                passwords=CHEAP_PASSWORDS,
                now=clock(),
            )
        elif change == "two-factor reset":
            await accounts.reset_totp(db, by=admin, user_id=account.id, now=clock())
        else:
            await accounts.set_disabled(
                db, by=admin, user_id=account.id, disabled=True, now=clock()
            )
    assert (await client.get("/api/me")).status == 401
