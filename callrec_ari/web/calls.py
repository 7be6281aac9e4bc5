"""Searching calls and listening to them, as pages and as the JSON API.

Listening is two steps: the person states a reason (audited with the play), which grants
this browser session the recording for a short while; the audio element then streams it
with HTTP Range from ``/calls/{id}/audio``, never from a public or guessable path.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp_session import get_session

from callrec_ari.access import (
    CallFacts,
    may_ask_release,
    may_export_any,
    may_hold,
    may_play_any,
)
from callrec_ari.calls import listen, search
from callrec_ari.calls.listen import Listening, ReasonCategory
from callrec_ari.calls.search import CallView, Page
from callrec_ari.errors import ForbiddenError, NotFoundError, RecordingError
from callrec_ari.recording import waveform
from callrec_ari.web.keys import CLOCK, SESSIONS, SETTINGS
from callrec_ari.web.request import allowed, client_of, done, fields, page, signed_in

routes = web.RouteTableDef()

GRANT_SECONDS = 30 * 60  # a stated reason covers one listening session, not the whole day
_GRANTS = "grants"


def _call_json(call: CallView) -> dict[str, Any]:
    return {
        "uniqueid": call.uniqueid,
        "started_at": call.started_at.isoformat(),
        "answered_at": call.answered_at.isoformat() if call.answered_at else None,
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "caller": call.caller,
        "dialled_number": call.dialled_number,
        "agent": call.agent,
        "languages": list(call.languages),
        "consent": str(call.consent),
        "recording_status": str(call.recording_status),
        "duration_seconds": call.duration_seconds,
        "retention_policy": call.retention_policy,
        "delete_after": call.delete_after.isoformat() if call.delete_after else None,
        "held": call.held,
        "restricted": call.restricted,
        "playable": call.playable,
    }


async def _search(request: web.Request) -> tuple[search.SearchFilters, Page]:
    account = signed_in(request)
    settings = request.app[SETTINGS]
    filters = search.parse_filters(request.query, region=settings.numbers_region)
    async with request.app[SESSIONS]() as db, db.begin():
        found = await search.search_calls(
            db,
            actor=account.actor,
            filters=filters,
            region=settings.numbers_region,
            page_size=settings.web.page_size,
            cursor=request.query.get("cursor") or None,
            now=request.app[CLOCK](),
            client=client_of(request),
        )
    return filters, found


@routes.get("/calls")
async def calls_page(request: web.Request) -> web.StreamResponse:
    """The search form and one page of results."""
    signed_in(request)
    _, found = await _search(request)
    query = {key: value for key, value in request.query.items() if key != "cursor" and value}
    return await page(
        request,
        "calls.html",
        {
            "calls": found.calls,
            "next_cursor": found.next_cursor,
            "query": query,
            "consents": [
                "given",
                "declined",
                "opted_out",
                "abandoned",
                "interrupted",
                "service_unavailable",
                "pending",
            ],
        },
    )


@routes.get("/api/calls")
async def calls_api(request: web.Request) -> web.StreamResponse:
    """One page of calls as JSON."""
    _, found = await _search(request)
    return web.json_response(
        {"calls": [_call_json(call) for call in found.calls], "next_cursor": found.next_cursor}
    )


async def _one(request: web.Request) -> CallView:
    account = signed_in(request)
    async with request.app[SESSIONS]() as db:
        return await search.view_call_for(
            db, actor=account.actor, uniqueid=request.match_info["uniqueid"]
        )


@routes.get("/calls/{uniqueid}")
async def call_page(request: web.Request) -> web.StreamResponse:
    """One call: its details, and the reason form before listening."""
    call = await _one(request)
    session = await get_session(request)
    granted = _granted(session, call.uniqueid) is not None
    account = signed_in(request)
    return await page(
        request,
        "call.html",
        {
            "call": call,
            "granted": granted,
            "categories": [category.value for category in ReasonCategory],
            "min_reason": request.app[SETTINGS].web.reason_min_length,
            "may_download": may_export_any(account.actor),
            "may_hold": may_hold(account.actor) and call.recording_status.value != "deleted",
            "may_ask_release": call.playable
            and may_ask_release(
                account.actor, CallFacts(agent=call.agent, restricted=call.restricted)
            ),
            "error": None,
        },
    )


@routes.get("/api/calls/{uniqueid}")
async def call_api(request: web.Request) -> web.StreamResponse:
    """One call as JSON."""
    return web.json_response(_call_json(await _one(request)))


async def _open(request: web.Request, reason: str, category: str, *, download: bool) -> Listening:
    # The role first: someone who may never listen learns nothing from checking their reason.
    account = allowed(request, may_play_any)
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as db, db.begin():
        return await listen.open_recording(
            db,
            actor=account.actor,
            uniqueid=request.match_info["uniqueid"],
            reason=reason,
            category=category,
            download=download,
            recordings_dir=settings.recording.service_dir,
            min_reason=settings.web.reason_min_length,
            now=request.app[CLOCK](),
            client=client_of(request),
        )


def _granted(session: Any, uniqueid: str) -> str | None:
    grants = session.get(_GRANTS)
    if not isinstance(grants, dict):
        return None
    grant = grants.get(uniqueid)
    if not isinstance(grant, list) or len(grant) != 2 or grant[1] < time.time():
        return None
    return str(grant[0])


async def _grant(request: web.Request, listening: Listening) -> None:
    session = await get_session(request)
    grants = session.get(_GRANTS)
    grants = {
        key: value
        for key, value in (grants.items() if isinstance(grants, dict) else [])
        if isinstance(value, list) and len(value) == 2 and value[1] >= time.time()
    }
    # The path is kept in the encrypted, signed cookie: the browser can neither read nor
    # change it, and the audio request needs no second lookup.
    grants[listening.uniqueid] = [str(listening.path), time.time() + GRANT_SECONDS]
    session[_GRANTS] = grants


@routes.post("/calls/{uniqueid}/listen")
@routes.post("/api/calls/{uniqueid}/listen")
async def listen_to(request: web.Request) -> web.StreamResponse:
    """State a reason; the recording then plays on the call's page (the API answers where
    the audio streams from)."""
    given = await fields(request)
    listening = await _open(
        request, given.get("reason", ""), given.get("category", ""), download=False
    )
    await _grant(request, listening)
    return done(
        request,
        to=f"/calls/{listening.uniqueid}#player",
        body={"audio_url": f"/calls/{listening.uniqueid}/audio", "expires_in": GRANT_SECONDS},
    )


@routes.get("/calls/{uniqueid}/audio")
async def audio(request: web.Request) -> web.StreamResponse:
    """The recording, streamed with Range support, for a session that stated a reason."""
    signed_in(request)
    session = await get_session(request)
    path = _granted(session, request.match_info["uniqueid"])
    if path is None:
        raise ForbiddenError("State a reason on the call's page before listening.")
    # A file deleted since (purge, erasure) is answered 404 by FileResponse itself.
    response = web.FileResponse(path, headers={"Content-Type": "audio/wav"})
    response.headers["Cache-Control"] = "private, no-store"
    return response


@routes.get("/calls/{uniqueid}/waveform.svg")
async def waveform_svg(request: web.Request) -> web.StreamResponse:
    """The recording's waveform, for a session that stated a reason (as the audio)."""
    signed_in(request)
    session = await get_session(request)
    path = _granted(session, request.match_info["uniqueid"])
    if path is None:
        raise ForbiddenError("State a reason on the call's page before listening.")
    try:
        levels = await asyncio.to_thread(waveform.peaks, Path(path))
    except RecordingError:
        raise NotFoundError("The recording can no longer be read.") from None
    response = web.Response(text=waveform.svg(levels), content_type="image/svg+xml")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@routes.post("/calls/{uniqueid}/download")
async def download(request: web.Request) -> web.StreamResponse:
    """A copy of the recording as a file, for those who may take copies, with a reason."""
    account = signed_in(request)
    if not may_export_any(account.actor):
        raise ForbiddenError("Your roles do not allow taking copies of recordings.")
    form = await request.post()
    listening = await _open(
        request, str(form.get("reason", "")), str(form.get("category", "")), download=True
    )
    response = web.FileResponse(listening.path, headers={"Content-Type": "audio/wav"})
    response.headers["Content-Disposition"] = f'attachment; filename="{listening.uniqueid}.wav"'
    return response
