"""Every role against every endpoint: allowed ones are not refused, the rest answer 403 (or
404 where the call's existence would leak). A new route fails here until it is classified."""

from __future__ import annotations

import re

import pytest

from callrec_ari.access import Role
from tests.web.conftest import csrf, sign_in

AGENT, SUPERVISOR, DPO, DIRECTOR, ADMIN, TRAINER = (
    Role.AGENT,
    Role.SUPERVISOR,
    Role.DPO,
    Role.DIRECTOR,
    Role.ADMIN,
    Role.TRAINER,
)
EVERYONE = frozenset(Role)
SEES_CALLS = EVERYONE - {TRAINER}  # a trainer sees no call at all, only training copies
PLAYERS = frozenset({AGENT, SUPERVISOR, DPO, DIRECTOR})  # the agent for their own call
NOT_SIGNED_IN = "public"  # sign-in pages, the API document, static files, the privacy notice
NOBODY: frozenset[Role] = frozenset()
REASON_FIRST = "reason"  # the audio needs a stated reason in this session: 403 for all here

# (method, route) -> who may: a set of roles, or one of the two markers above.
RULES: list[tuple[str, str, frozenset[Role] | str]] = [
    ("GET", r"/", NOT_SIGNED_IN),
    ("*", r"/login.*", NOT_SIGNED_IN),
    ("POST", r"/logout", EVERYONE),
    ("POST", r"/language", NOT_SIGNED_IN),
    ("GET", r"/api/openapi\.json", NOT_SIGNED_IN),
    ("GET", r"/static", NOT_SIGNED_IN),
    ("GET", r"/notice(\.txt)?", NOT_SIGNED_IN),
    ("GET", r"/api/me", EVERYONE),
    ("GET", r"(/api)?/calls(/\{uniqueid\})?", SEES_CALLS),
    ("POST", r"(/api)?/calls/\{uniqueid\}/listen", PLAYERS),
    ("GET", r"/calls/\{uniqueid\}/(audio|waveform\.svg)", REASON_FIRST),
    ("GET", r"/calls/\{uniqueid\}/evidence", frozenset({DPO})),
    # No copy is handed out from a call's page: a release or a data-subject export only.
    ("POST", r"/calls/\{uniqueid\}/download", NOBODY),
    ("POST", r"(/api)?/calls/\{uniqueid\}/releases", frozenset({SUPERVISOR, DPO})),
    ("GET", r"(/api)?/releases", frozenset({SUPERVISOR, DPO, DIRECTOR})),
    ("POST", r"(/api)?/releases/\{release_id\}/decision", frozenset({DIRECTOR})),
    ("GET", r"/releases/\{release_id\}/download", frozenset({SUPERVISOR, DPO})),
    ("*", r"(/api)?/calls/\{uniqueid\}/holds", frozenset({SUPERVISOR})),
    ("*", r"(/api)?/holds.*", frozenset({SUPERVISOR})),
    ("*", r"(/api)?/(requests|do-not-record|subjects|audit).*", frozenset({DPO})),
    ("*", r"(/api)?/admin/.*", frozenset({ADMIN})),
    ("GET", r"/retention|/api/retention/report", frozenset({DPO})),
    ("POST", r"(/api)?/calls/\{uniqueid\}/training", frozenset({SUPERVISOR})),
    ("GET", r"(/api)?/training|/training/\{copy_id\}/audio", frozenset({TRAINER, SUPERVISOR})),
    ("POST", r"(/api)?/training/\{copy_id\}/delete", frozenset({SUPERVISOR})),
]
IDS = {
    "release_id": "999999",
    "hold_id": "999999",
    "request_id": "999999",
    "user_id": "999999",
    "grant_id": "999999",
    "copy_id": "0123456789abcdef",
}


def rule_for(method: str, path: str) -> frozenset[Role] | str:
    for rule_method, pattern, who in RULES:
        if rule_method in {"*", method} and re.fullmatch(pattern, path):
            return who
    raise AssertionError(f"{method} {path} is not classified in tests/web/test_roles.py")


def routes(app) -> list[tuple[str, str]]:
    found = []
    for route in app.router.routes():
        info = route.get_info()
        path = info.get("path") or info.get("formatter") or info.get("prefix")
        if route.method != "HEAD":
            found.append((route.method, path))
    return found


def test_every_route_is_classified(client):
    """No endpoint escapes the matrix below."""
    for method, path in routes(client.server.app):
        rule_for(method, path)


@pytest.mark.parametrize("role", list(Role))
async def test_each_role_against_every_endpoint(client, person, clock, calls, role):
    """The agent owns calls[0]; every id that is not a call names nothing that exists, so
    an allowed request changes nothing (it ends in 400 or 404), and a refused one is 403."""
    who = await person(f"someone-{role}", role, extension="agent100")
    await sign_in(client, who, clock)
    token = await csrf(client, "/calls")
    checked = 0
    wrong = []
    for method, path in routes(client.server.app):
        who_may = rule_for(method, path)
        if who_may == NOT_SIGNED_IN or path == "/logout":
            continue
        url = path.replace("{uniqueid}", calls[0].uniqueid)
        for name, value in IDS.items():
            url = url.replace("{" + name + "}", value)
        if method == "GET":
            response = await client.get(url, allow_redirects=False)
        elif url.startswith("/api/"):
            response = await client.post(
                url, json={}, headers={"X-CSRF-Token": token}, allow_redirects=False
            )
        else:
            response = await client.post(url, data={"csrf": token}, allow_redirects=False)
        status = response.status
        checked += 1
        expected_refusal = who_may == REASON_FIRST or role not in who_may
        if expected_refusal != (status in {401, 403}) or (expected_refusal and status == 401):
            wrong.append(f"{method} {path} -> {status}")
    assert not wrong, f"{role}: {wrong}"
    assert checked > 80
