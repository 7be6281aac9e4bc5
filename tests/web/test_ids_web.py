"""Ids too large for the database are refused at the edge: 404 in the address, 400 in a
field, a query or a page cursor; never a 500 (issue 10 §5)."""

from __future__ import annotations

import base64

import pytest

from callrec_ari.access import Role
from tests.web.conftest import csrf, sign_in

HUGE = "99999999999999999999"  # beyond 2**63 - 1: OverflowError in the driver before
ALL_ROLES = (Role.DPO, Role.SUPERVISOR, Role.DIRECTOR)

IN_THE_ADDRESS = [
    ("GET", f"/releases/{HUGE}/download", None),
    ("POST", f"/api/releases/{HUGE}/decision", {"decision": "approve"}),
    ("POST", f"/releases/{HUGE}/decision", {"decision": "approve"}),
    ("GET", f"/api/requests/{HUGE}", None),
    ("GET", f"/requests/{HUGE}", None),
    ("POST", f"/api/requests/{HUGE}/close", {"outcome": "done", "note": "answered in full"}),
    ("POST", f"/api/requests/{HUGE}/extend", {"reason": "many recordings to review"}),
    ("POST", f"/requests/{HUGE}/close", {"outcome": "done", "note": "answered in full"}),
    ("POST", f"/api/holds/{HUGE}/release", {"reason": "the case was closed"}),
    ("POST", f"/holds/{HUGE}/release", {"reason": "the case was closed"}),
    ("GET", f"/api/calls/{HUGE}", None),
]
IN_A_FIELD = [
    ("/api/subjects/erase", {"number": "+48221234567", "request": HUGE, "reason": "Art. 17"}),
    ("/api/do-not-record", {"number": "+48221234567", "request": HUGE, "reason": "objected"}),
    ("/api/do-not-record/remove", {"number": "+48221234567", "request": HUGE}),
    ("/api/subjects/restrict", {"number": "+48221234567", "request": HUGE, "reason": "Art. 18"}),
]


async def send(client, method, path, body):
    """``body`` as JSON for the API, as a form for a page, with the session's CSRF token."""
    token = await csrf(client, "/calls")
    if method == "GET":
        return await client.get(path, allow_redirects=False)
    if path.startswith("/api/"):
        return await client.post(path, json=body, headers={"X-CSRF-Token": token})
    return await client.post(path, data={"csrf": token, **body}, allow_redirects=False)


@pytest.mark.usefixtures("calls")
async def test_huge_ids_in_the_address_are_not_found(client, person, clock):
    """Every route naming a release, request, hold or call by a 20-digit id answers 404."""
    await sign_in(client, await person("boss", *ALL_ROLES), clock)
    for method, path, body in IN_THE_ADDRESS:
        response = await send(client, method, path, body)
        assert (path, response.status) == (path, 404)


async def test_huge_request_numbers_in_fields_are_refused(client, person, clock):
    """Erasure, do-not-record and restriction naming a 20-digit request: 400, one sentence."""
    await sign_in(client, await person("anna", Role.DPO), clock)
    for path, body in IN_A_FIELD:
        response = await send(client, "POST", path, body)
        assert (path, response.status) == (path, 400)
        error = (await response.json())["error"]
        assert error == f"Request number {HUGE!r} is not a valid number."


async def test_huge_page_markers_and_cursors_are_refused(client, person, clock):
    """The audit trail's ``before``, the calls' and the subject's cursors: 400, not 500."""
    await sign_in(client, await person("anna", Role.DPO), clock)
    audit = await client.get("/api/audit", params={"before": HUGE})
    assert audit.status == 400
    calls_cursor = base64.urlsafe_b64encode(f"0.{HUGE}".encode()).decode().rstrip("=")
    assert (await client.get("/api/calls", params={"cursor": calls_cursor})).status == 400
    subject = await client.get(
        "/api/subjects",
        params={"number": "+48221234567", "cursor": f"2026-12-01T09:00:00+00:00~{HUGE}"},
    )
    assert subject.status == 400


async def test_ids_in_range_still_work(client, person, clock):
    """The largest possible id is an ordinary 'not found'; a real request opens."""
    await sign_in(client, await person("anna", Role.DPO), clock)
    assert (await client.get(f"/api/requests/{2**63 - 1}")).status == 404
    token = await csrf(client, "/calls")
    opened = await client.post(
        "/api/requests",
        json={"kind": "access", "number": "+48221234567", "requester": "the caller"},
        headers={"X-CSRF-Token": token},
    )
    assert opened.status == 201
    request_id = (await opened.json())["id"]
    assert (await client.get(f"/api/requests/{request_id}")).status == 200
