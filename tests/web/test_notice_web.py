"""The public privacy notice at /notice: no sign-in, the live configuration, safe headers."""

from __future__ import annotations

import dataclasses

from aiohttp.test_utils import TestClient, TestServer

from callrec_ari.access import Role
from callrec_ari.profile.model import PLACEHOLDER_PROFILE
from callrec_ari.web.app import build_web_app
from tests.web.conftest import csrf, sign_in, sign_out


async def test_anyone_reads_the_notice_without_signing_in(client):
    """No session, no cookie asked for: the page is there with the controller's name."""
    response = await client.get("/notice")
    assert response.status == 200
    assert response.content_type == "text/html"
    page = await response.text()
    assert "Aurora Services" in page
    assert "https://aurora.example" in page
    assert '<html lang="en">' in page
    assert "Set-Cookie" not in response.headers


async def test_the_notice_carries_the_security_headers_and_a_short_cache(client):
    """Same strict headers as every page, but a proxy may keep it five minutes."""
    response = await client.get("/notice.txt")
    assert response.content_type == "text/plain"
    headers = response.headers
    assert headers["Cache-Control"] == "public, max-age=300"
    assert headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Server" not in headers


async def test_the_language_is_the_query_s_else_the_browser_s(client):
    """?lang= wins; else Accept-Language; a language we lack in the header falls back to en."""
    finnish = await (await client.get("/notice.txt?lang=fi")).text()
    assert finnish.startswith("Tietosuojaseloste")
    swedish = await client.get("/notice.txt", headers={"Accept-Language": "sv-FI, en;q=0.5"})
    assert (await swedish.text()).startswith("Dataskyddsbeskrivning")
    assert swedish.headers["Content-Language"] == "sv"
    other = await client.get("/notice.txt", headers={"Accept-Language": "de, ;q=zz, *"})
    assert (await other.text()).startswith("Privacy notice")


async def test_an_unknown_lang_is_a_clear_400_never_500(client):
    """?lang=de or markup in lang: 400 naming the five languages, the input escaped."""
    response = await client.get("/notice?lang=de")
    assert response.status == 400
    assert "The notice has no language &#39;de&#39; (known: en, pl, sv, fi, ro)." in (
        await response.text()
    )
    hostile = await client.get("/notice", params={"lang": "<script>alert(1)</script>"})
    assert hostile.status == 400
    body = await hostile.text()
    assert "<script>alert(1)" not in body
    assert hostile.headers["Cache-Control"] == "no-store"


async def test_the_notice_follows_the_admin_s_changes(client, person, clock):
    """A policy and the DPO changed by the admin show on the public page at once."""
    before = await (await client.get("/notice.txt?lang=en")).text()
    assert "Number 5551000 (announcement in Polish): kept for 7 days" in before
    await sign_in(client, await person("ada", Role.ADMIN), clock)
    headers = {"X-CSRF-Token": await csrf(client, "/admin/settings")}
    changed = await client.post(
        "/api/admin/settings/policies", json={"name": "days-7", "months": 2}, headers=headers
    )
    assert changed.status == 200
    dpo = {"dpo_contact": "Privacy Desk, privacy@housing.example.org"}
    assert (await client.post("/api/admin/settings/profile", json=dpo, headers=headers)).ok
    await sign_out(client, clock)
    after = await (await client.get("/notice.txt?lang=en")).text()
    assert "Number 5551000 (announcement in Polish): kept for 2 months" in after
    assert "Privacy Desk, privacy@housing.example.org" in after


async def test_the_profile_api_refuses_bad_values_and_non_admins(client, person, clock):
    """A bad notice address is a 400 naming it; a supervisor may not change the profile."""
    await sign_in(client, await person("ada", Role.ADMIN), clock)
    headers = {"X-CSRF-Token": await csrf(client, "/admin/settings")}
    bad = await client.post(
        "/api/admin/settings/profile", json={"notice_url": "javascript:alert(1)"}, headers=headers
    )
    assert bad.status == 400
    assert (await bad.json())["error"] == "The notice address must start with https://."
    processing = {"did": "5554000", "purposes": ["training"], "storage_country": "DE"}
    saved = await client.post("/api/admin/settings/processing", json=processing, headers=headers)
    assert saved.status == 200
    body = await (await client.get("/api/admin/settings")).json()
    row = next(r for r in body["routes"] if r["did"] == "5554000")
    assert (row["processing"]["purposes"], row["processing"]["storage_country"]) == (
        ["training"],
        "DE",
    )
    await sign_out(client, clock)
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    headers = {"X-CSRF-Token": await csrf(client, "/calls")}
    refused = await client.post(
        "/api/admin/settings/profile", json={"controller_name": "Hijack Ltd"}, headers=headers
    )
    assert refused.status == 403
    assert "Hijack" not in await (await client.get("/notice.txt")).text()


async def test_the_admin_s_settings_page_shows_the_profile(client, person, clock):
    """The profile and processing forms are on the settings page with today's values."""
    await sign_in(client, await person("ada", Role.ADMIN), clock)
    page = await (await client.get("/admin/settings")).text()
    assert 'id="profile-form"' in page
    assert 'id="processing-form"' in page
    assert 'value="Aurora Services"' in page
    assert "6 months" in page


async def test_without_a_profile_nothing_is_published(settings, clock):
    """A config without [profile]: 503 with one sentence, never a placeholder notice."""
    bare = dataclasses.replace(settings, profile=PLACEHOLDER_PROFILE)
    async with TestClient(TestServer(build_web_app(bare, clock=clock), host="127.0.0.1")) as c:
        response = await c.get("/notice")
        assert response.status == 503
        assert await response.text() == "The privacy notice is not published yet.\n"
