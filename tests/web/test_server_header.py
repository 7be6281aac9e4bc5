"""No answer names the server software and its version (issue 10 §5)."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from callrec_ari.access import Role
from callrec_ari.app import build_app
from callrec_ari.web.security import drop_server_header, harden
from tests.web.conftest import sign_in

STATIC = "/static/app.css"


async def test_no_server_header_anywhere(client, person, clock, calls):
    """Pages, the API, error pages and JSON errors, redirects and static files."""
    anonymous = [
        await client.get("/login"),
        await client.get("/calls", allow_redirects=False),  # a redirect to sign in
        await client.get("/api/calls"),  # 401 as JSON
        await client.get("/no/such/page"),  # aiohttp's own 404
        await client.get(STATIC),
    ]
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    signed_in = [
        await client.get("/calls"),
        await client.get("/api/calls"),
        await client.get(f"/calls/{calls[0].uniqueid}/audio"),  # 403: no reason stated
        await client.get("/api/audit"),  # 403 as JSON
        await client.post("/api/calls/x/listen", json={}),  # CSRF refusal
    ]
    statuses = [response.status for response in anonymous + signed_in]
    assert statuses == [200, 303, 401, 404, 200, 200, 200, 403, 403, 403]
    for response in anonymous + signed_in:
        assert "Server" not in response.headers, response.url


async def test_harden_drops_the_header_of_any_app():
    """The same signal serves the service's /healthz app."""

    async def healthy(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/healthz", healthy)
    harden(app)
    async with TestClient(TestServer(app, host="127.0.0.1")) as bare:
        response = await bare.get("/healthz")
        assert response.status == 200
        assert "Server" not in response.headers


def test_the_service_app_is_hardened(settings):
    """``build_app`` (the service with /healthz) registers the signal."""
    assert drop_server_header in build_app(settings).on_response_prepare
