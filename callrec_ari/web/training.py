"""The training library in the web app (seed 003 §9): a supervisor makes a copy from a call's
page; trainers and supervisors list and play the copies; a supervisor deletes one.

A trainer sees this page and nothing else: no call, no search, no call audio. Each answer
that sends a copy's sound is audited as ``training.played``; a browser's player asks in many
byte ranges and again on every seek, so, as for calls, one entry per account and copy is
written every five minutes with the number of answers sent in between (``repeats``).
"""

from __future__ import annotations

from aiohttp import web

from callrec_ari.access import may_mark_for_training, may_play_training
from callrec_ari.training import library
from callrec_ari.training.expiry import target
from callrec_ari.training.library import TrainingCopyView
from callrec_ari.web.keys import CLOCK, OFFSITE, SESSIONS, SETTINGS
from callrec_ari.web.refusals import STREAMS
from callrec_ari.web.request import allowed, client_of, done, fields, page

routes = web.RouteTableDef()


@routes.post("/calls/{uniqueid}/training")
@routes.post("/api/calls/{uniqueid}/training")
async def make(request: web.Request) -> web.StreamResponse:
    """Make an anonymised training copy of this call (a supervisor who may play it)."""
    account = allowed(request, may_mark_for_training)  # before the fields are looked at
    given = await fields(request)
    async with request.app[SESSIONS]() as db, db.begin():
        made = await library.make_copy(
            db,
            actor=account.actor,
            uniqueid=request.match_info["uniqueid"],
            topic=given.get("topic", ""),
            spans=given.get("spans", ""),
            caller=given.get("caller", ""),
            settings=request.app[SETTINGS],
            now=request.app[CLOCK](),
            client=client_of(request),
            offsite=request.app.get(OFFSITE),
        )
    return done(request, to="/training", body=made.to_json(), status=201)


async def _copies(request: web.Request) -> list[TrainingCopyView]:
    async with request.app[SESSIONS]() as db:
        return await library.list_copies(db, now=request.app[CLOCK]())


@routes.get("/training")
async def training_page(request: web.Request) -> web.StreamResponse:
    """The library: each copy's topic, language, caller's voice, month, and a player."""
    account = allowed(request, may_play_training)
    return await page(
        request,
        "training.html",
        {"copies": await _copies(request), "may_delete": may_mark_for_training(account.actor)},
    )


@routes.get("/api/training")
async def training_api(request: web.Request) -> web.StreamResponse:
    """The training copies as JSON (the audio of each at ``/training/{copy_id}/audio``)."""
    allowed(request, may_play_training)
    return web.json_response({"copies": [copy.to_json() for copy in await _copies(request)]})


@routes.get("/training/{copy_id}/audio")
async def audio(request: web.Request) -> web.StreamResponse:
    """A copy's sound, streamed with Range support; audited as ``training.played``."""
    account = allowed(request, may_play_training)
    now = request.app[CLOCK]()
    async with request.app[SESSIONS]() as db, db.begin():
        playable = await library.open_copy(
            db,
            actor=account.actor,
            copy_id=request.match_info["copy_id"],
            library=request.app[SETTINGS].training.dir,
            now=now,
        )
        repeats = request.app[STREAMS].admit((account.username, target(playable.id)), now)
        if repeats is not None:
            await library.record_play(
                db,
                actor=account.actor,
                copy_id=playable.id,
                now=now,
                client=client_of(request),
                repeats=repeats,
            )
    # A file deleted since the check (purge, a supervisor) is answered 404 by FileResponse.
    response = web.FileResponse(playable.path, headers={"Content-Type": playable.content_type})
    response.headers["Cache-Control"] = "private, no-store"
    return response


@routes.post("/training/{copy_id}/delete")
@routes.post("/api/training/{copy_id}/delete")
async def delete(request: web.Request) -> web.StreamResponse:
    """Delete a copy from the library (a supervisor's)."""
    account = allowed(request, may_mark_for_training)
    async with request.app[SESSIONS]() as db, db.begin():
        deleted = await library.delete_copy(
            db,
            actor=account.actor,
            copy_id=request.match_info["copy_id"],
            library=request.app[SETTINGS].training.dir,
            now=request.app[CLOCK](),
            client=client_of(request),
        )
    return done(request, to="/training", body=deleted.to_json())
