"""A dpo who tries every way to take audio out of callrec without approval: each refused,
each refusal in the trail, nothing in the copy register; the two ways out still work."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select

from callrec_ari.access import Role
from callrec_ari.db.models import AuditEntry, Copy
from callrec_ari.rights.export import NEEDS_CONSENT
from callrec_ari.web.keys import SETTINGS
from tests.rights.conftest import with_caller_leg
from tests.web.conftest import csrf, sign_in, sign_out

GROUND = "Court order II C 118/26 of the district court"


async def refusals(session_factory):
    async with session_factory() as db:
        rows = await db.scalars(
            select(AuditEntry).where(AuditEntry.action == "access.refused").order_by(AuditEntry.seq)
        )
        return [(row.target, json.loads(row.detail)) for row in rows]


async def register(session_factory):
    async with session_factory() as db:
        return list(await db.scalars(select(Copy).order_by(Copy.id)))


async def api(client, path, body):
    token = await csrf(client, "/calls")
    return await client.post(path, json=body, headers={"X-CSRF-Token": token})


async def open_request(client, kind, number):
    body = {"kind": kind, "number": number, "requester": "Jan"}
    return (await (await api(client, "/api/requests", body)).json())["id"]


async def test_every_way_out_without_approval_is_refused_and_audited(
    client, person, clock, calls, session_factory
):
    """Direct download, export with no request or the wrong one, an unapproved release,
    approving one's own release: 403 each, one trail entry each, no copy registered."""
    anna = await person("anna", Role.DPO, Role.DIRECTOR)  # both roles: the hardest case
    await sign_in(client, anna, clock)
    uniqueid = calls[0].uniqueid
    caller = str(calls[0].caller_e164)  # both calls of the fixture are from this number
    token = await csrf(client, "/calls")
    attempts = []

    direct = await client.post(
        f"/calls/{uniqueid}/download",
        data={"csrf": token, "reason": "the caller asked for a copy", "category": "data_subject"},
    )
    attempts.append(("POST /calls/{id}/download", direct))
    clock.advance(minutes=2)  # refusals of one kind are written once a minute
    no_request = await api(client, "/api/subjects/export", {"number": caller})
    attempts.append(("export without a request", no_request))
    clock.advance(minutes=2)
    erasure = await open_request(client, "erasure", caller)
    wrong_kind = await api(
        client, "/api/subjects/export", {"number": caller, "request": str(erasure)}
    )
    attempts.append(("export for an erasure request", wrong_kind))
    clock.advance(minutes=2)
    form = await client.post(
        "/subjects/export", data={"csrf": token, "number": caller}, allow_redirects=False
    )
    attempts.append(("the export form without a request", form))
    clock.advance(minutes=2)
    asked = await api(
        client,
        f"/api/calls/{uniqueid}/releases",
        {"recipient": "Anna's own archive", "legal_ground": GROUND},
    )
    release_id = (await asked.json())["id"]
    early = await client.get(f"/releases/{release_id}/download")
    attempts.append(("an unapproved release", early))
    clock.advance(minutes=2)
    own = await api(client, f"/api/releases/{release_id}/decision", {"decision": "approve"})
    attempts.append(("approving her own release", own))

    assert [(what, response.status) for what, response in attempts] == [
        (what, 403) for what, _ in attempts
    ]
    assert "approved by a director" in (await direct.text())
    assert "open access or portability request" in (await no_request.json())["error"]
    assert "only an access or portability request" in (await wrong_kind.json())["error"]
    assert "another director decides" in (await own.json())["error"]
    written = await refusals(session_factory)
    assert [target for target, _ in written] == [
        f"POST /calls/{uniqueid}/download",
        "POST /api/subjects/export",
        "POST /api/subjects/export",
        "POST /subjects/export",
        f"GET /releases/{release_id}/download",
        f"POST /api/releases/{release_id}/decision",
    ]
    assert all(detail["error_id"] == "forbidden" for _, detail in written)
    assert await register(session_factory) == []
    page = await (await client.get(f"/calls/{uniqueid}")).text()
    assert f"/calls/{uniqueid}/download" not in page


async def test_the_two_ways_out_work_and_are_registered(
    client, person, clock, calls, session_factory
):
    """A release another director approved, and an export answering an access request
    (the caller's leg): both leave, both are in the copy register."""
    settings = client.app[SETTINGS]
    with_caller_leg(settings.recording.service_dir, calls[0])
    anna = await person("anna", Role.DPO)
    eva = await person("eva", Role.DIRECTOR)
    await sign_in(client, anna, clock)
    uniqueid = calls[0].uniqueid
    caller = str(calls[0].caller_e164)  # both calls of the fixture are from this number
    asked = await api(
        client, f"/api/calls/{uniqueid}/releases", {"recipient": "Police", "legal_ground": GROUND}
    )
    release_id = (await asked.json())["id"]
    access = await open_request(client, "access", caller)
    exported = await api(client, "/api/subjects/export", {"number": caller, "request": str(access)})
    assert exported.status == 200
    archive = zipfile.ZipFile(io.BytesIO(await exported.read()))
    leg = settings.recording.service_dir / f"{calls[0].recording_path[:-4]}.caller.wav"
    assert archive.read(f"recordings/{uniqueid}.caller.wav") == leg.read_bytes()
    assert f"recordings/{uniqueid}.wav" not in archive.namelist()
    described = {c["uniqueid"]: c for c in json.loads(archive.read("calls.json"))["calls"]}
    assert described[uniqueid]["file"] == f"recordings/{uniqueid}.caller.wav"
    # The other call has no caller leg and the agent did not consent: described, not copied.
    assert (described[calls[1].uniqueid]["file"], described[calls[1].uniqueid]["file_problem"]) == (
        None,
        NEEDS_CONSENT,
    )
    await sign_out(client, clock)
    await sign_in(client, eva, clock)
    assert (
        await api(client, f"/api/releases/{release_id}/decision", {"decision": "approve"})
    ).status == 200
    await sign_out(client, clock)
    await sign_in(client, anna, clock)
    assert (await client.get(f"/releases/{release_id}/download")).status == 200

    rows = await register(session_factory)
    assert [(r.uniqueid, r.kind, r.request_id, r.release_id) for r in rows] == [
        (uniqueid, "caller", access, None),
        (uniqueid, "mix", None, release_id),
    ]


async def _exported(client, person, clock, calls):
    """Anna signed in, the caller's leg of calls[0] exported for an access request."""
    with_caller_leg(client.app[SETTINGS].recording.service_dir, calls[0])
    await sign_in(client, await person("anna", Role.DPO), clock)
    caller = str(calls[0].caller_e164)
    access = await open_request(client, "access", caller)
    exported = await api(client, "/api/subjects/export", {"number": caller, "request": str(access)})
    assert exported.status == 200
    return caller, access


async def test_the_erasure_page_names_the_copies_outside(client, person, clock, calls):
    """After an export, erasing the number says a copy left earlier and names it."""
    caller, access = await _exported(client, person, clock, calls)
    token = await csrf(client, "/calls")
    erased = await client.post(
        "/subjects/erase", data={"csrf": token, "number": caller}, allow_redirects=False
    )
    page = await (await client.get(erased.headers["Location"])).text()
    assert "1 copy(ies) of these recordings left callrec earlier" in page
    assert f"{calls[0].uniqueid}: caller, request {access}, Jan" in page


async def test_the_erasure_api_lists_the_copies_outside_in_full(
    client, person, clock, calls, session_factory
):
    """The JSON answer of an erasure carries each registered copy: id, kind, SHA-256."""
    caller, _ = await _exported(client, person, clock, calls)
    [row] = await register(session_factory)
    erased = await api(client, "/api/subjects/erase", {"number": caller})
    listed = (await erased.json())["copies_outside"]
    assert [(c["id"], c["kind"], c["sha256"]) for c in listed] == [(row.id, "caller", row.sha256)]
