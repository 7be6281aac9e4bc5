"""A reason made of invisible characters is no reason, wherever one is asked for
(issue 10 §5): listening, releases, holds, restriction, requests."""

from __future__ import annotations

import pytest

from callrec_ari.access import Role
from tests.web.conftest import csrf, sign_in

ZERO_WIDTH = "\u200b" * 10  # the penetration test's reason: ten zero-width spaces
PADDED = "because" + "\u200b\u2060\u00a0" * 4  # 7 visible characters, 19 in all


async def post_api(client, path, body):
    token = await csrf(client, "/calls")
    return await client.post(path, json=body, headers={"X-CSRF-Token": token})


@pytest.mark.parametrize("reason", [ZERO_WIDTH, PADDED])
async def test_listening_refuses_an_invisible_reason(client, person, clock, calls, reason):
    """400 with one sentence saying what is wrong; no audio granted."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    uniqueid = calls[0].uniqueid
    token = await csrf(client, "/calls")
    response = await client.post(
        f"/calls/{uniqueid}/listen",
        data={"csrf": token, "reason": reason, "category": "quality"},
        allow_redirects=False,
    )
    assert response.status == 400
    page = await response.text()
    assert "The reason has no visible characters (only spaces or marks)." in page or (
        "The reason is shorter than 10 visible characters." in page
    )
    assert (await client.get(f"/calls/{uniqueid}/audio")).status == 403


async def test_the_api_says_which_reason_is_empty(client, person, clock, calls):
    """The JSON error is the same sentence."""
    await sign_in(client, await person("sue", Role.SUPERVISOR), clock)
    response = await post_api(
        client,
        f"/api/calls/{calls[0].uniqueid}/listen",
        {"reason": ZERO_WIDTH, "category": "quality"},
    )
    assert response.status == 400
    assert (await response.json())["error"] == (
        "The reason has no visible characters (only spaces or marks)."
    )


async def test_holds_releases_and_restrictions_refuse_invisible_text(client, person, clock, calls):
    """A hold's reason, its release reason, a release's legal ground and a restriction's
    reason: each 400 when nothing visible was typed."""
    await sign_in(client, await person("boss", Role.SUPERVISOR, Role.DPO), clock)
    uniqueid = calls[0].uniqueid
    hold = await post_api(
        client, f"/api/calls/{uniqueid}/holds", {"case_reference": "PR-1", "reason": ZERO_WIDTH}
    )
    assert hold.status == 400
    held = await post_api(
        client, f"/api/calls/{uniqueid}/holds", {"case_reference": "PR-1", "reason": "police"}
    )
    assert held.status == 201
    hold_id = (await held.json())["id"]
    release = await post_api(client, f"/api/holds/{hold_id}/release", {"reason": ZERO_WIDTH})
    assert release.status == 400
    asked = await post_api(
        client,
        f"/api/calls/{uniqueid}/releases",
        {"recipient": "Court of Warsaw", "legal_ground": ZERO_WIDTH},
    )
    assert asked.status == 400
    assert "legal ground" in (await asked.json())["error"]
    restricted = await post_api(
        client, "/api/subjects/restrict", {"uniqueid": uniqueid, "reason": ZERO_WIDTH}
    )
    assert restricted.status == 400
    assert "no visible characters" in (await restricted.json())["error"]
    listed = await (await client.get("/api/holds")).json()
    assert [h["active"] for h in listed["holds"]] == [True]  # still held


async def test_requests_refuse_an_invisible_closing_note(client, person, clock):
    """A data-subject request cannot be closed with nothing visible in its note."""
    await sign_in(client, await person("anna", Role.DPO), clock)
    opened = await post_api(
        client,
        "/api/requests",
        {"kind": "access", "number": "+48221234567", "requester": "the caller"},
    )
    request_id = (await opened.json())["id"]
    closed = await post_api(
        client, f"/api/requests/{request_id}/close", {"outcome": "done", "note": ZERO_WIDTH}
    )
    assert closed.status == 400
    assert (await closed.json())["error"] == (
        "The closing note has no visible characters (only spaces or marks)."
    )
