"""The dpo's screens: requests, a number's data (export, erase, restrict, rectify) and the
do-not-record list; every action in the trail, and nobody else let in."""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
import zipfile

import pytest
from sqlalchemy import select

from callrec_ari.access import Role
from callrec_ari.db.models import AuditEntry, Call, DoNotRecord, DsrAction
from callrec_ari.db.repository import upsert_calls
from callrec_ari.web.keys import SETTINGS
from tests.rights.conftest import place_hold, recorded
from tests.web.conftest import csrf, sign_in

NUMBER = "+48221234567"
OTHER = "+48229876543"


@pytest.fixture
async def subject(settings, session_factory):
    """Three calls from NUMBER with real WAVs and their true SHA-256, one from OTHER."""
    recordings = settings.recording.service_dir
    made = [
        recorded(recordings, "1796100000.1", minutes=0),
        recorded(recordings, "1796100000.2", minutes=5),
        recorded(recordings, "1796100000.3", minutes=10),
        recorded(recordings, "1796100000.9", number="48229876543", e164=OTHER, minutes=20),
    ]
    async with session_factory() as db, db.begin():
        await upsert_calls(db, made)
    return made


@pytest.fixture
async def dpo(client, person, clock):
    """Anna, the data-protection officer, signed in."""
    anna = await person("anna", Role.DPO)
    await sign_in(client, anna, clock)
    return anna


async def post(client, path, data, *, follow=False):
    """A form post with the session's CSRF token, as the browser sends it."""
    token = await csrf(client, "/calls")
    return await client.post(path, data={"csrf": token, **data}, allow_redirects=follow)


async def api(client, path, body):
    """A JSON post with the token in the header."""
    token = await csrf(client, "/calls")
    return await client.post(path, json=body, headers={"X-CSRF-Token": token})


def recordings(client):
    """The recordings folder of the app under test."""
    return client.app[SETTINGS].recording.service_dir


async def open_request(client, number=NUMBER):
    """Open an access request through the API; its id."""
    body = {"kind": "access", "number": number, "requester": "Jan"}
    return (await (await api(client, "/api/requests", body)).json())["id"]


async def trail(session_factory, action):
    async with session_factory() as db:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        rows = await db.scalars(query)
        return list(rows)


async def test_a_request_is_opened_extended_and_closed(client, dpo, session_factory):
    """The register lists overdue requests first; each step shows on the request's page and
    is in the audit trail."""
    opened = await post(
        client,
        "/requests",
        {
            "kind": "erasure",
            "number": "+48 22 123 45 67",
            "requester": "Jan Kowalski, by e-mail",
            "received": "2026-11-20",
        },
    )
    assert opened.status == 303
    first = int(opened.headers["Location"].rsplit("/", 1)[1])
    late = await api(
        client,
        "/api/requests",
        {"kind": "access", "number": OTHER, "requester": "Ewa", "received": "2026-10-01"},
    )
    assert late.status == 201
    assert (await late.json())["overdue"] is True
    listed = await (await client.get("/api/requests")).json()
    assert [r["kind"] for r in listed["requests"]] == ["access", "erasure"]  # overdue first
    page = await (await client.get("/requests")).text()
    assert "Jan Kowalski, by e-mail" in page
    assert page.index("Ewa") < page.index("Jan Kowalski")

    extended = await post(
        client, f"/requests/{first}/extend", {"reason": "Many recordings to review."}
    )
    assert extended.status == 303
    shown = await (await client.get(f"/requests/{first}")).text()
    assert "Many recordings to review." in shown
    assert "2027-02-18" in shown  # 20 Dec + 60 days
    closed = await api(
        client, f"/api/requests/{first}/close", {"outcome": "done", "note": "All erased."}
    )
    assert (await closed.json())["status"] == "done"
    still_open = await (await client.get("/api/requests")).json()
    assert first not in [r["id"] for r in still_open["requests"]]
    everything = await (await client.get("/api/requests?all=yes")).json()
    assert first in [r["id"] for r in everything["requests"]]
    detail = await (await client.get(f"/api/requests/{first}")).json()
    assert [a["action"] for a in detail["actions"]] == ["opened", "extended", "done"]
    for action in ("dsr.opened", "dsr.extended", "dsr.done"):
        entries = await trail(session_factory, action)
        assert entries
        assert {entry.actor for entry in entries} == {"anna"}
    # Reading the register and a request is in the trail as well.
    reads = await trail(session_factory, "dsr.read")
    assert [entry.target for entry in reads] == [f"request:{first}", f"request:{first}"]
    lists = await trail(session_factory, "dsr.list")
    assert [json.loads(entry.detail)["include_closed"] for entry in lists][-1] is True


async def test_bad_request_input_is_refused_in_one_sentence(client, dpo):
    """Unreadable numbers, empty reasons, future dates and unknown requests: 400 or 404."""
    bad_number = await api(
        client, "/api/requests", {"kind": "access", "number": "call me", "requester": "Jan"}
    )
    assert bad_number.status == 400
    assert "is not a phone number" in (await bad_number.json())["error"]
    future = await api(
        client,
        "/api/requests",
        {"kind": "access", "number": NUMBER, "requester": "Jan", "received": "2027-01-01"},
    )
    assert future.status == 400
    assert "future" in (await future.json())["error"]
    kind = await api(client, "/api/requests", {"kind": "curiosity", "number": NUMBER})
    assert kind.status == 400
    assert (await client.get("/api/requests/999")).status == 404
    assert (await client.get("/requests/not-a-number")).status == 404
    assert (await api(client, "/api/requests/999/extend", {"reason": "x"})).status == 404
    request_id = await open_request(client)
    empty = await post(client, f"/requests/{request_id}/extend", {"reason": "   "})
    assert empty.status == 400
    assert "empty" in await empty.text()
    outcome = await api(
        client, f"/api/requests/{request_id}/close", {"outcome": "maybe", "note": "n"}
    )
    assert outcome.status == 400


async def test_the_do_not_record_list(client, dpo, session_factory):
    """Added with a reason, listed, removed; each change in the trail."""
    added = await post(client, "/do-not-record", {"number": "0048229876543", "reason": "Objected."})
    assert added.status == 303
    page = await (await client.get("/do-not-record")).text()
    assert OTHER in page
    assert "Objected." in page
    listed = await (await client.get("/api/do-not-record")).json()
    assert [e["number"] for e in listed["entries"]] == [OTHER]
    twice = await api(client, "/api/do-not-record", {"number": OTHER, "reason": "Again."})
    assert twice.status == 400
    empty = await api(client, "/api/do-not-record", {"number": NUMBER, "reason": ""})
    assert empty.status == 400
    assert "empty" in (await empty.json())["error"]
    unreadable = await post(client, "/do-not-record", {"number": "abc", "reason": "r"})
    assert unreadable.status == 400
    removed = await api(
        client, "/api/do-not-record/remove", {"number": OTHER, "reason": "Consented again."}
    )
    assert removed.status == 200
    assert (await (await client.get("/api/do-not-record")).json())["entries"] == []
    gone = await api(client, "/api/do-not-record/remove", {"number": OTHER, "reason": "r"})
    assert gone.status == 404
    assert await trail(session_factory, "dsr.do_not_record_added")
    assert await trail(session_factory, "dsr.do_not_record_removed")
    # Each reading of the list (page, API, API again after removal) is in the trail too.
    readings = await trail(session_factory, "dnr.list")
    assert [(r.actor, json.loads(r.detail)["results"]) for r in readings] == [
        ("anna", 1),
        ("anna", 1),
        ("anna", 0),
    ]


async def test_a_number_s_page_shows_its_calls_and_requests(client, dpo, subject):
    """Every call of the number, none of the other number's; the API says the same."""
    await api(client, "/api/requests", {"kind": "access", "number": NUMBER, "requester": "Jan"})
    page = await (await client.get("/subjects", params={"number": "22 123 45 67"})).text()
    for call in subject[:3]:
        assert call.uniqueid in page
    assert subject[3].uniqueid not in page
    assert 'href="/requests/1"' in page
    body = await (await client.get("/api/subjects", params={"number": NUMBER})).json()
    assert [c["uniqueid"] for c in body["calls"]] == [c.uniqueid for c in reversed(subject[:3])]
    assert body["requests"][0]["kind"] == "access"
    assert (await client.get("/api/subjects", params={"number": "x"})).status == 400
    assert (await client.get("/subjects")).status == 200  # the search form alone


async def test_looking_a_number_up_is_in_the_trail_masked(client, dpo, subject, session_factory):
    """A lookup is a search: audited, with only the number's last three digits."""
    await client.get("/subjects", params={"number": NUMBER})
    [entry] = await trail(session_factory, "search.subject")
    assert entry.actor == "anna"
    assert NUMBER not in entry.detail
    assert NUMBER[-3:] in entry.detail


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """The folder temporary files go to, to see that none is left behind."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


async def test_the_access_package_downloads_as_a_zip(
    client, dpo, subject, session_factory, scratch
):
    """The zip holds each WAV and the summaries, SHA256SUMS matches them, the temporary
    files are gone afterwards and the export is in the trail, linked to its request."""
    request_id = await open_request(client)
    response = await post(
        client,
        "/subjects/export",
        {
            "number": NUMBER,
            "request": str(request_id),
            "agent_consent_agent": "agent100",
            "agent_consent_on": "2026-11-30",
            "agent_consent_how": "signed form",
        },
    )
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["X-Export-Calls"] == "3"
    archive = zipfile.ZipFile(io.BytesIO(await response.read()))
    names = set(archive.namelist())
    assert {"calls.json", "summary.txt", "summary.html", "SHA256SUMS"} <= names
    for call in subject[:3]:  # the agent consented: the mix
        wav = f"recordings/{call.uniqueid}.wav"
        source = recordings(client) / str(call.recording_path)
        assert archive.read(wav) == source.read_bytes()
        assert hashlib.sha256(archive.read(wav)).hexdigest() == call.sha256
    assert f"recordings/{subject[3].uniqueid}.wav" not in names
    sums = archive.read("SHA256SUMS").decode().splitlines()
    assert len(sums) == len([n for n in names if not n.endswith("/")]) - 1
    for line in sums:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest
    assert list(scratch.iterdir()) == []
    [entry] = await trail(session_factory, "dsr.exported")
    assert entry.target == f"request:{request_id}"
    assert entry.actor == "anna"
    # The record says where the package went, not the temporary folder it was built in.
    async with session_factory() as db:
        action = await db.get(DsrAction, json.loads(entry.detail)["dsr_action"])
    assert action is not None
    assert json.loads(action.detail)["delivered"] == "web download by anna"


async def test_erasure_deletes_the_recordings_and_keeps_held_calls(
    client, dpo, subject, settings, session_factory
):
    """Erased calls lose their WAVs; a held call stays, marked; the number is not recorded
    again; the subject page says what happened."""
    await place_hold(session_factory, "II K 12/26", [subject[2].uniqueid])
    response = await post(
        client,
        "/subjects/erase",
        {"number": NUMBER, "reason": "Consent withdrawn by phone.", "do_not_record": "yes"},
    )
    assert response.status == 303
    page = await (await client.get(response.headers["Location"])).text()
    assert "2 call(s) erased; 2 recording(s) deleted, 0 already gone." in page
    assert "1 call(s) kept for now" in page
    assert "II K 12/26" in page
    assert "erasure pending" in page
    assert "The number is on the do-not-record list." in page
    again = await (await client.get(response.headers["Location"])).text()
    assert "call(s) erased" not in again  # the outcome shows once
    for call, kept in ((subject[0], False), (subject[1], False), (subject[2], True)):
        path = settings.recording.service_dir / str(call.recording_path)
        assert path.exists() is kept
    async with session_factory() as db:
        purged = await db.scalar(select(Call.purged_at).where(Call.uniqueid == subject[0].uniqueid))
        assert purged is not None
        assert await db.get(DoNotRecord, NUMBER) is not None
    assert await trail(session_factory, "dsr.erased")
    assert (settings.recording.service_dir / str(subject[3].recording_path)).exists()


async def test_erasure_through_the_api_reports_what_it_kept(client, dpo, subject, session_factory):
    """The JSON answer lists erased and pending calls with the holds' cases."""
    await place_hold(session_factory, "II K 12/26", [subject[0].uniqueid])
    body = await (await api(client, "/api/subjects/erase", {"number": NUMBER})).json()
    assert sorted(body["erased"]) == sorted(c.uniqueid for c in subject[1:3])
    assert body["pending"] == [
        {"uniqueid": subject[0].uniqueid, "why": "legal hold", "cases": ["II K 12/26"]}
    ]
    assert body["do_not_record"] is False
    unknown = await api(client, "/api/subjects/erase", {"number": NUMBER, "request": "77"})
    assert unknown.status == 404


async def test_restrict_and_lift(client, dpo, subject, session_factory):
    """One call restricted from the page, shown as such; the number's calls lifted by API."""
    one = subject[0].uniqueid
    response = await post(
        client,
        "/subjects/restrict",
        {"number": NUMBER, "uniqueid": one, "reason": "Accuracy contested."},
    )
    assert response.status == 303
    page = await (await client.get("/subjects", params={"number": NUMBER})).text()
    row = page[page.index(f'id="call-{one}"') :]
    assert "restricted" in row[: row.index("</tr>")]
    assert (
        await api(client, "/api/subjects/restrict", {"number": NUMBER, "reason": ""})
    ).status == 400
    lifted = await api(client, "/api/subjects/lift", {"number": NUMBER, "reason": "Checked."})
    assert (await lifted.json())["changed"] == [one]
    assert len(await trail(session_factory, "dsr.restricted")) == 1
    assert len(await trail(session_factory, "dsr.unrestricted")) == 1


async def test_rectification_keeps_the_history(client, dpo, subject, session_factory):
    """The agent field corrected; the page shows old and new values and the reason."""
    one = subject[0].uniqueid
    response = await post(
        client,
        "/subjects/rectify",
        {
            "number": NUMBER,
            "uniqueid": one,
            "field": "agent",
            "value": "agent300",
            "reason": "The call was transferred.",
        },
    )
    assert response.status == 303
    page = await (await client.get("/subjects", params={"number": NUMBER})).text()
    assert "agent300" in page
    assert "The call was transferred." in page
    assert "Originally" in page
    history = await (await client.get(f"/api/subjects/calls/{one}/history")).json()
    assert history["originals"] == {"agent": "agent100"}
    assert history["changes"][0]["new_value"] == "agent300"
    assert await trail(session_factory, "dsr.rectified")
    bad_field = await api(
        client,
        "/api/subjects/rectify",
        {"uniqueid": one, "field": "started_at", "value": "x", "reason": "r"},
    )
    assert bad_field.status == 400
    unknown = await api(
        client,
        "/api/subjects/rectify",
        {"uniqueid": "nope", "field": "agent", "value": "x", "reason": "r"},
    )
    assert unknown.status == 404
    assert (await client.get("/api/subjects/calls/nope/history")).status == 404


PAGES = ["/requests", "/requests/1", "/do-not-record", f"/subjects?number={NUMBER}"]
GETS = [
    "/api/requests",
    "/api/requests/1",
    "/api/do-not-record",
    f"/api/subjects?number={NUMBER}",
    "/api/subjects/calls/1796100000.1/history",
]
POSTS = [
    "/requests",
    "/requests/1/extend",
    "/requests/1/close",
    "/do-not-record",
    "/do-not-record/remove",
    "/subjects/export",
    "/subjects/erase",
    "/subjects/restrict",
    "/subjects/lift",
    "/subjects/rectify",
]


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.AGENT, Role.DIRECTOR, Role.ADMIN])
async def test_nobody_else_gets_in(client, person, clock, subject, role):
    """Pages, API reads and every action answer 403 to the other roles; nothing changes."""
    who = await person("someone", role, extension="agent100")
    await sign_in(client, who, clock)
    token = await csrf(client, "/calls")
    for path in PAGES + GETS:
        response = await client.get(path)
        assert response.status == 403, path
    for path in POSTS:
        form = await client.post(
            path, data={"csrf": token, "number": NUMBER, "reason": "r"}, allow_redirects=False
        )
        assert form.status == 403, path
        assert "roles" in await form.text(), path  # refused for the role, not the token
        api_path = f"/api{path}"
        answer = await client.post(
            api_path, json={"number": NUMBER, "reason": "r"}, headers={"X-CSRF-Token": token}
        )
        assert answer.status == 403, api_path
        assert "roles" in (await answer.json())["error"]
    for call in subject:
        assert (recordings(client) / str(call.recording_path)).exists()
