"""Every error of the staff app answered in one place: a page in the reader's language, or
JSON with a stable ``error_id`` for the API; a fault of ours logged, never shown."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import update
from structlog.testing import capture_logs

from callrec_ari.access import Role
from callrec_ari.db.models import Call
from callrec_ari.errors import ConfigError
from callrec_ari.web.app import build_web_app
from callrec_ari.web.errors import INTERNAL
from tests.web.conftest import csrf, sign_in

CSP = "Content-Security-Policy"


def error_page(body: str) -> tuple[str, str]:
    """The error id and the sentence an error page shows."""
    found = re.search(r'data-error-id="([a-z_]+)"', body)
    message = re.search(r'id="error-message">([^<]*)<', body)
    assert found, "not the error page"
    assert message, "not the error page"
    return found.group(1), html.unescape(message.group(1))


async def json_error(response) -> dict[str, Any]:
    """An API error's body, after checking it is JSON with the headers of every answer."""
    assert response.content_type == "application/json"
    assert "script-src 'self'" in response.headers[CSP]
    return await response.json()


@pytest.fixture
async def supervisor(client, person, clock):
    """Sue, a supervisor who reads the pages in Polish, signed in."""
    await sign_in(client, await person("sue", Role.SUPERVISOR, language="pl"), clock)
    return client


async def test_not_found_is_a_page_in_the_reader_s_language(supervisor):
    """404 with the service's sentence, a Polish title, the id to quote and a link back;
    the security headers as on every page."""
    response = await supervisor.get("/calls/no.such.call")
    assert response.status == 404
    assert response.content_type == "text/html"
    assert "script-src 'self'" in response.headers[CSP]
    body = await response.text()
    assert error_page(body) == ("not_found", "Call 'no.such.call' does not exist.")
    assert "<h1>Nie znaleziono</h1>" in body
    assert 'id="error-back"' in body


async def test_not_found_is_json_with_a_stable_id_for_the_api(supervisor):
    """The same failure through the API: the sentence and ``not_found``, nothing else."""
    response = await supervisor.get("/api/calls/no.such.call")
    assert response.status == 404
    assert await json_error(response) == {
        "error": "Call 'no.such.call' does not exist.",
        "error_id": "not_found",
    }


async def test_a_role_that_does_not_allow_it_is_403_either_way(client, person, clock):
    """An agent on the holds: ``forbidden`` on the page and in the API."""
    await sign_in(client, await person("ali", Role.AGENT, extension="agent100"), clock)
    page = await client.get("/holds")
    assert page.status == 403
    assert error_page(await page.text()) == ("forbidden", "Your roles do not allow this.")
    answer = await client.get("/api/holds")
    assert answer.status == 403
    assert await json_error(answer) == {
        "error": "Your roles do not allow this.",
        "error_id": "forbidden",
    }


async def test_bad_input_is_400_with_the_field_named(supervisor):
    """A date nobody can read names its filter; a number that is none gets its own id."""
    page = await supervisor.get("/calls", params={"until": "yesterday"})
    assert page.status == 400
    error_id, message = error_page(await page.text())
    assert error_id == "invalid_input"
    assert message.startswith("until 'yesterday' is not an ISO 8601 date or time")
    answer = await supervisor.get("/api/calls", params={"since": "31.11.2026"})
    assert answer.status == 400
    assert (await json_error(answer))["error_id"] == "invalid_input"
    number = await supervisor.get("/api/calls", params={"number": "call me"})
    assert number.status == 400
    assert (await json_error(number))["error_id"] == "invalid_number"


async def test_nobody_signed_in_is_sent_to_sign_in_or_answered_401(client):
    """A page leads to the sign-in form (and back); the API says so in JSON."""
    page = await client.get("/calls", allow_redirects=False)
    assert (page.status, page.headers["Location"]) == (303, "/login?next=/calls")
    answer = await client.get("/api/calls")
    assert answer.status == 401
    assert await json_error(answer) == {"error": "Sign in first.", "error_id": "not_signed_in"}


async def test_a_post_without_the_csrf_token_is_refused_with_its_own_id(supervisor):
    """403 ``csrf_refused`` for the API, the same sentence on a page."""
    answer = await supervisor.post("/api/holds", json={"number": "+48221234567"})
    assert answer.status == 403
    assert (await json_error(answer))["error_id"] == "csrf_refused"
    page = await supervisor.post("/holds", data={"number": "+48221234567"})
    assert page.status == 403
    error_id, message = error_page(await page.text())
    assert (error_id, "CSRF" in message) == ("csrf_refused", True)


async def test_aiohttp_s_own_refusals_have_the_same_shapes(client):
    """No such address, or a method the address does not take: JSON for the API, a page
    otherwise."""
    missing = await client.get("/api/no-such-thing")
    assert missing.status == 404
    assert await json_error(missing) == {
        "error": "There is nothing at this address.",
        "error_id": "not_found",
    }
    method = await client.options("/api/calls")
    assert method.status == 405
    assert (await json_error(method))["error_id"] == "method_not_allowed"
    page = await client.get("/no-such-page")
    assert page.status == 404
    assert error_page(await page.text()) == ("not_found", "There is nothing at this address.")


async def test_a_recording_outside_its_folder_is_a_conflict(
    client, person, clock, session_factory, calls
):
    """Erasing a number whose stored path points elsewhere changes nothing: 409."""
    async with session_factory() as db, db.begin():
        await db.execute(
            update(Call)
            .where(Call.uniqueid == calls[0].uniqueid)
            .values(recording_path="../../etc/passwd")
        )
    await sign_in(client, await person("anna", Role.DPO), clock)
    token = await csrf(client, "/calls")
    answer = await client.post(
        "/api/subjects/erase",
        json={"number": "+48221234567", "reason": "asked"},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status == 409
    assert (await json_error(answer))["error_id"] == "recording_problem"
    page = await client.post(
        "/subjects/erase", data={"csrf": token, "number": "+48221234567", "reason": "asked"}
    )
    assert page.status == 409
    error_id, message = error_page(await page.text())
    assert (error_id, "nothing was erased" in message) == ("recording_problem", True)


async def test_the_link_back_leads_to_the_page_the_person_came_from(supervisor):
    """The referring page of this site; home for another site's."""
    ours = f"http://{supervisor.server.host}:{supervisor.server.port}/calls?agent=x"
    page = await supervisor.get("/calls/nope", headers={"Referer": ours})
    assert 'href="/calls?agent=x" id="error-back"' in await page.text()
    theirs = await supervisor.get("/calls/nope", headers={"Referer": "https://evil.example/x"})
    assert 'href="/" id="error-back"' in await theirs.text()


SECRET = "password=hunter2 at /etc/callrec/secret"


async def _boom(request: web.Request) -> web.StreamResponse:
    raise RuntimeError(SECRET)


async def _misconfigured(request: web.Request) -> web.StreamResponse:
    raise ConfigError(f"Config key web.secret {SECRET} is unreadable.")


@pytest.fixture
async def faulty(settings, clock):
    """The app with routes that fail the way a bug would, as a page and in the API."""
    app = build_web_app(settings, clock=clock)
    for path in ("/boom", "/api/boom"):
        app.router.add_get(path, _boom)
    app.router.add_get("/api/misconfigured", _misconfigured)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


async def test_an_unexpected_error_is_logged_and_answered_500_without_a_traceback(faulty):
    """The log has the exception; the person gets one generic sentence and ``internal``."""
    with capture_logs() as logs:
        answer = await faulty.get("/api/boom")
        page = await faulty.get("/boom")
    assert answer.status == page.status == 500
    assert await json_error(answer) == {"error": INTERNAL, "error_id": "internal"}
    body = await page.text()
    assert "script-src 'self'" in page.headers[CSP]
    assert error_page(body) == ("internal", INTERNAL)
    for text in (await answer.text(), body):
        assert "Traceback" not in text
        assert "RuntimeError" not in text
        assert "hunter2" not in text
    logged = [entry for entry in logs if entry["event"] == "web.unexpected_error"]
    assert [(entry["path"], entry["log_level"]) for entry in logged] == [
        ("/api/boom", "error"),
        ("/boom", "error"),
    ]
    assert all(entry["exc_info"] is True for entry in logged)


async def test_a_deliberate_error_of_ours_is_logged_but_its_text_not_shown(faulty):
    """A configuration fault may name files: 500 ``internal``, its sentence only in the log."""
    with capture_logs() as logs:
        answer = await faulty.get("/api/misconfigured")
    assert answer.status == 500
    assert await json_error(answer) == {"error": INTERNAL, "error_id": "internal"}
    [entry] = [entry for entry in logs if entry["event"] == "web.unexpected_error"]
    assert entry["error_class"] == "ConfigError"
    assert SECRET in entry["error"]
