"""Training copies in the web app: the supervisor's form on a call's page, the library page
with its player, every play audited; a trainer lands on the library and sees nothing else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from callrec_ari.access import Role
from callrec_ari.db.models import AuditEntry
from callrec_ari.web.keys import SETTINGS
from tests.training.conftest import OTHER_DID, store, toned
from tests.web.conftest import csrf, sign_in, sign_out

UNIQUEID = "1796000555.1"


@pytest.fixture
async def call(settings, session_factory) -> str:
    """A call to the line recorded for training, with both legs on disk."""
    await store(session_factory, toned(settings.recording.service_dir, UNIQUEID))
    return UNIQUEID


async def trail(session_factory, prefix: str) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    """(actor, action, target, detail) of the entries whose action starts with ``prefix``."""
    async with session_factory() as db:
        rows = await db.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        return [
            (e.actor, e.action, e.target, json.loads(e.detail))
            for e in rows
            if e.action.startswith(prefix)
        ]


async def make_on_page(client, uniqueid: str, **form: str):
    """Fill in and send the call page's training form, as a browser does."""
    page = await (await client.get(f"/calls/{uniqueid}")).text()
    assert 'id="training-form"' in page
    token = await csrf(client, f"/calls/{uniqueid}")
    return await client.post(
        f"/calls/{uniqueid}/training",
        data={"csrf": token, "topic": "a calm answer", "caller": "disguise", **form},
        allow_redirects=False,
    )


async def test_a_supervisor_marks_a_call_and_the_copy_is_in_the_library(
    client, person, clock, call, session_factory
):
    """The form on the call's page makes the copy; the library lists it with a player that
    loads nothing until pressed; the trail has ``training.made`` on the call."""
    sue = await person("sue", Role.SUPERVISOR)
    await sign_in(client, sue, clock)
    sent = await make_on_page(client, call, spans="1-1.5, 0:02-0:03")
    assert sent.status == 303
    assert sent.headers["Location"] == "/training"
    page = await (await client.get("/training")).text()
    [copy] = (await (await client.get("/api/training")).json())["copies"]
    assert f'id="copy-{copy["id"]}"' in page
    assert f'src="/training/{copy["id"]}/audio"' in page
    assert 'preload="none"' in page
    assert "a calm answer" in page
    assert call not in page
    assert await trail(session_factory, "training.") == [
        ("sue", "training.made", call, {"caller_voice": "disguised", "spans": 2})
    ]


async def test_the_api_twin_answers_with_the_copy(client, person, clock, call):
    """``POST /api/calls/{id}/training`` gives 201 and the copy's own fields only."""
    sue = await person("sue", Role.SUPERVISOR)
    await sign_in(client, sue, clock)
    token = await csrf(client, "/calls")
    made = await client.post(
        f"/api/calls/{call}/training",
        json={"topic": "greeting", "caller": "remove"},
        headers={"X-CSRF-Token": token},
    )
    assert made.status == 201
    body = await made.json()
    assert set(body) == {"id", "topic", "language", "caller_voice", "made_month", "expires_on"}
    assert (body["caller_voice"], body["made_month"]) == ("removed", "2026-12")


async def test_refusals_are_one_sentence_with_their_status(
    client, person, clock, call, session_factory
):
    """A line not recorded for training: 403 naming its purposes; no legs: 409; a bad span:
    400 naming it."""
    recordings = client.server.app[SETTINGS].recording.service_dir
    await store(
        session_factory,
        toned(recordings, "other.1", dialled=OTHER_DID),
        toned(recordings, "old.1", legs=False),
    )
    sue = await person("sue", Role.SUPERVISOR)
    await sign_in(client, sue, clock)
    token = await csrf(client, "/calls")
    cases = [
        ("other.1", {}, 403, "forbidden", "Calls to 5551000 are recorded for"),
        ("old.1", {}, 409, "recording_problem", "has no separate caller leg"),
        (call, {"spans": "3-99"}, 400, "invalid_input", "The span '3-99' ends after"),
    ]
    for uniqueid, extra, status, error_id, sentence in cases:
        answer = await client.post(
            f"/api/calls/{uniqueid}/training",
            json={"topic": "greeting", **extra},
            headers={"X-CSRF-Token": token},
        )
        body = await answer.json()
        assert (answer.status, body["error_id"]) == (status, error_id)
        assert body["error"].startswith(sentence) or sentence in body["error"]
    assert (await (await client.get("/api/training")).json())["copies"] == []


async def test_a_trainer_plays_copies_and_sees_no_call(
    client, person, clock, call, session_factory
):
    """The trainer lands on the library, plays a copy (Range answered, ``training.played``
    written, later requests counted), and is refused the calls list, a call's page, its
    audio and listening."""
    sue = await person("sue", Role.SUPERVISOR)
    await sign_in(client, sue, clock)
    await make_on_page(client, call)
    [copy] = (await (await client.get("/api/training")).json())["copies"]
    await sign_out(client, clock)

    tia = await person("tia", Role.TRAINER)
    await sign_in(client, tia, clock)  # lands on /training (checked by sign_in)
    home = await client.get("/", allow_redirects=False)
    assert home.headers["Location"] == "/training"
    page = await (await client.get("/training")).text()
    assert 'href="/training"' in page
    assert 'href="/calls"' not in page
    assert "Make a training copy" not in page
    assert "/delete" not in page

    audio = f"/training/{copy['id']}/audio"
    whole = await client.get(audio)
    assert whole.status == 200
    assert whole.headers["Content-Type"] == "audio/wav"
    assert whole.headers["Cache-Control"] == "private, no-store"
    data = await whole.read()
    assert data[:4] == b"RIFF"
    part = await client.get(audio, headers={"Range": "bytes=0-99"})
    assert part.status == 206
    assert await part.read() == data[:100]
    clock.advance(minutes=6)
    await client.get(audio, headers={"Range": "bytes=100-"})
    played = await trail(session_factory, "training.played")
    assert played == [
        ("tia", "training.played", f"training:{copy['id']}", {"repeats": 0}),
        ("tia", "training.played", f"training:{copy['id']}", {"repeats": 1}),
    ]

    token = await csrf(client, "/training")
    refused = {
        "/calls": await client.get("/calls"),
        "/api/calls": await client.get("/api/calls"),
        f"/calls/{call}": await client.get(f"/calls/{call}"),
        f"/api/calls/{call}": await client.get(f"/api/calls/{call}"),
        f"/calls/{call}/audio": await client.get(f"/calls/{call}/audio"),
        f"/calls/{call}/listen": await client.post(
            f"/calls/{call}/listen",
            data={"csrf": token, "reason": "to teach new staff", "category": "training"},
        ),
        f"/calls/{call}/training": await client.post(
            f"/calls/{call}/training", data={"csrf": token, "topic": "mine now"}
        ),
    }
    assert {path: answer.status for path, answer in refused.items()} == dict.fromkeys(refused, 403)


async def test_a_supervisor_deletes_a_copy_from_the_library(client, person, clock, call):
    """The delete button removes the copy: gone from the list, its audio not found."""
    sue = await person("sue", Role.SUPERVISOR)
    await sign_in(client, sue, clock)
    await make_on_page(client, call)
    [copy] = (await (await client.get("/api/training")).json())["copies"]
    token = await csrf(client, "/training")
    deleted = await client.post(
        f"/training/{copy['id']}/delete", data={"csrf": token}, allow_redirects=False
    )
    assert deleted.status == 303
    assert (await (await client.get("/api/training")).json())["copies"] == []
    assert (await client.get(f"/training/{copy['id']}/audio")).status == 404


async def test_the_form_is_offered_to_supervisors_only(client, person, clock, call):
    """A director sees the call, plays it, and is offered no training form."""
    eva = await person("eva", Role.DIRECTOR)
    await sign_in(client, eva, clock)
    page = await (await client.get(f"/calls/{call}")).text()
    assert 'id="training-form"' not in page
    assert 'href="/training"' not in page
