"""Searching calls and listening to them, as pages and as the JSON API.

No copy leaves here: ``POST /calls/{id}/download`` is refused for everyone (and audited as
refused); copies leave only as releases (``web/releases.py``) or data-subject exports.

Listening is two steps: the person states a reason (audited with the play), which grants
this browser session the recording for a short while; the audio element then streams it
with HTTP Range from ``/calls/{id}/audio``, never from a public or guessable path.

The grant in the session cookie remembers only the reason (the number of the ``play``
entry holding it) and when it ends. It is no permission: every audio and waveform request
runs the rules again on the database as it is now (``listen.recheck``): an account disabled
or demoted, a call restricted or erased since, stops the sound at the next request, and the
refusal is audited (``web/refusals.py``). Each answer that sends sound is audited as
``play.stream``, naming the ``play`` entry; a browser's player asks in many byte ranges and
again on every seek, so one entry per account and call is written every five minutes, with
the number of requests answered in between (``repeats``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp_session import get_session

from callrec_ari.access import (
    CallFacts,
    may_ask_release,
    may_hold,
    may_mark_for_training,
    may_play_any,
    may_read_evidence,
    may_see_calls,
)
from callrec_ari.audit import trail
from callrec_ari.calls import listen, search
from callrec_ari.calls.listen import Listening, ReasonCategory
from callrec_ari.calls.search import CallView, Page
from callrec_ari.errors import ForbiddenError, NotFoundError, RecordingError
from callrec_ari.evidence.read import read_evidence
from callrec_ari.evidence.statement import statement
from callrec_ari.recording import waveform
from callrec_ari.web.audio import send_listening
from callrec_ari.web.keys import CLOCK, OFFSITE, SESSIONS, SETTINGS
from callrec_ari.web.refusals import STREAMS
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
        # Everyone who was on the call in order (a queue or a transfer); agent is the first.
        "agents": [
            {
                "agent": leg.agent,
                "joined_at": leg.joined_at.isoformat(),
                "left_at": leg.left_at.isoformat() if leg.left_at else None,
            }
            for leg in call.agent_legs
        ],
        "languages": list(call.languages),
        # Heard to the end (the consent evidence); null for calls stored before it was kept.
        "languages_played": None if call.languages_played is None else list(call.languages_played),
        "consent": str(call.consent),
        "recording_status": str(call.recording_status),
        "duration_seconds": call.duration_seconds,
        "retention_policy": call.retention_policy,
        "delete_after": call.delete_after.isoformat() if call.delete_after else None,
        "held": call.held,
        "restricted": call.restricted,
        "playable": call.playable,
        "withdrawn_at": call.withdrawn_at.isoformat() if call.withdrawn_at else None,
        "node": call.node,
        "interrupted_by": call.interrupted_by,
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
                "no_response",
                "opted_out",
                "abandoned",
                "interrupted",
                "service_unavailable",
                "overloaded",
                "withdrawn",
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
    # A trainer sees no call at all: refused whichever call is asked for, so nothing leaks.
    account = allowed(request, may_see_calls)
    async with request.app[SESSIONS]() as db:
        return await search.view_call_for(
            db, actor=account.actor, uniqueid=request.match_info["uniqueid"]
        )


@routes.get("/calls/{uniqueid}")
async def call_page(request: web.Request) -> web.StreamResponse:
    """One call: its details, and the reason form before listening."""
    call = await _one(request)
    session = await get_session(request)
    granted = _granted(request, session, call.uniqueid) is not None
    account = signed_in(request)
    return await page(
        request,
        "call.html",
        {
            "call": call,
            "granted": granted,
            "categories": [category.value for category in ReasonCategory],
            "min_reason": request.app[SETTINGS].web.reason_min_length,
            "may_hold": may_hold(account.actor) and call.recording_status.value != "deleted",
            "may_ask_release": call.playable
            and may_ask_release(
                account.actor, CallFacts(agent=call.agent, restricted=call.restricted)
            ),
            "may_read_evidence": may_read_evidence(account.actor),
            "may_mark_training": call.playable
            and not call.restricted
            and may_mark_for_training(account.actor),
            "error": None,
        },
    )


@routes.get("/calls/{uniqueid}/evidence")
async def evidence_page(request: web.Request) -> web.StreamResponse:
    """What the caller heard and did before being connected, for the dpo (an audited read)."""
    account = signed_in(request)
    async with request.app[SESSIONS]() as db, db.begin():
        record = await read_evidence(
            db,
            actor=account.actor,
            uniqueid=request.match_info["uniqueid"],
            now=request.app[CLOCK](),
            client=client_of(request),
        )
    return await page(
        request, "evidence.html", {"uniqueid": record.uniqueid, "lines": statement(record)}
    )


@routes.get("/api/calls/{uniqueid}")
async def call_api(request: web.Request) -> web.StreamResponse:
    """One call as JSON."""
    return web.json_response(_call_json(await _one(request)))


async def _open(request: web.Request, reason: str, category: str) -> Listening:
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
            recordings_dir=settings.recording.service_dir,
            keys=settings.encryption.master_keys,
            offsite=request.app.get(OFFSITE),
            min_reason=settings.web.reason_min_length,
            now=request.app[CLOCK](),
            client=client_of(request),
        )


@dataclass(frozen=True, kw_only=True)
class Grant:
    """A reason stated in this session for one call: the ``play`` entry, and its category."""

    play_seq: int
    category: str


def _now(request: web.Request) -> float:
    return request.app[CLOCK]().timestamp()


def _live(value: object, now: float) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], int)
        and isinstance(value[2], float | int)
        and value[2] >= now
    )


def _granted(request: web.Request, session: Any, uniqueid: str) -> Grant | None:
    grants = session.get(_GRANTS)
    grant = grants.get(uniqueid) if isinstance(grants, dict) else None
    if grant is None or not _live(grant, _now(request)):
        return None
    return Grant(play_seq=grant[0], category=str(grant[1]))


async def _grant(request: web.Request, listening: Listening, category: str) -> None:
    session = await get_session(request)
    now = _now(request)
    grants = session.get(_GRANTS)
    grants = {
        key: value
        for key, value in (grants.items() if isinstance(grants, dict) else [])
        if _live(value, now)
    }
    # Kept in the encrypted, signed cookie (the browser can neither read nor change it):
    # which trail entry holds the reason, never a path or a right.
    grants[listening.uniqueid] = [listening.audit_seq, category, now + GRANT_SECONDS]
    session[_GRANTS] = grants


async def _recheck(request: web.Request, *, via: str) -> Listening:
    """The recording, if this session stated a reason and the rules allow it now; the
    answer audited as ``play.stream`` (rate-limited: see the module docstring)."""
    account = signed_in(request)
    uniqueid = request.match_info["uniqueid"]
    grant = _granted(request, await get_session(request), uniqueid)
    if grant is None:
        raise ForbiddenError("State a reason on the call's page before listening.")
    now = request.app[CLOCK]()
    async with request.app[SESSIONS]() as db, db.begin():
        listening = await listen.recheck(
            db,
            actor=account.actor,
            uniqueid=uniqueid,
            recordings_dir=request.app[SETTINGS].recording.service_dir,
            keys=request.app[SETTINGS].encryption.master_keys,
            offsite=request.app.get(OFFSITE),
        )
        repeats = request.app[STREAMS].admit((account.username, listening.uniqueid), now)
        if repeats is not None:
            await trail.append(
                db,
                at=now,
                actor=account.username,
                action="play.stream",
                target=listening.uniqueid,
                detail={
                    "play_seq": grant.play_seq,  # the entry with the stated reason
                    "category": grant.category,
                    "via": via,
                    "repeats": repeats,  # answers sent since the previous entry, unwritten
                },
                client=client_of(request),
            )
    return listening


@routes.post("/calls/{uniqueid}/listen")
@routes.post("/api/calls/{uniqueid}/listen")
async def listen_to(request: web.Request) -> web.StreamResponse:
    """State a reason; the recording then plays on the call's page (the API answers where
    the audio streams from)."""
    given = await fields(request)
    listening = await _open(request, given.get("reason", ""), given.get("category", ""))
    await _grant(request, listening, given.get("category", "").strip().lower())
    return done(
        request,
        to=f"/calls/{listening.uniqueid}#player",
        body={"audio_url": f"/calls/{listening.uniqueid}/audio", "expires_in": GRANT_SECONDS},
    )


@routes.get("/calls/{uniqueid}/audio")
async def audio(request: web.Request) -> web.StreamResponse:
    """The recording, streamed with Range support, for a session that stated a reason."""
    listening = await _recheck(request, via="audio")
    return await send_listening(
        request,
        listening,
        headers={"Content-Type": "audio/wav", "Cache-Control": "private, no-store"},
    )


@routes.get("/calls/{uniqueid}/waveform.svg")
async def waveform_svg(request: web.Request) -> web.StreamResponse:
    """The recording's waveform, for a session that stated a reason (as the audio)."""
    listening = await _recheck(request, via="waveform")
    try:
        async with listening.local_audio() as audio:  # fetched whole if only the store has it
            levels = await asyncio.to_thread(waveform.peaks, audio)
    except RecordingError:
        raise NotFoundError("The recording can no longer be read.") from None
    response = web.Response(text=waveform.svg(levels), content_type="image/svg+xml")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@routes.post("/calls/{uniqueid}/download")
async def download(request: web.Request) -> web.StreamResponse:
    """No copy of a call is handed out here (seed 000 §7.2): refused for everyone, and the
    refusal is audited; a copy leaves only as a release a director approved or as the
    export answering the data subject's own request."""
    signed_in(request)
    raise ForbiddenError(
        "A copy of a recording leaves callrec only as a release approved by a director "
        "(ask for one on the call's page) or as a data-subject export answering an open request."
    )
