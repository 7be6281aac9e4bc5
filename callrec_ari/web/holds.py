"""Legal holds in the web app (the supervisor's): on one call from its page, or on every
call of a number in a period; released with a reason, after which deletion resumes."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from callrec_ari.access import may_hold
from callrec_ari.dates import parse_day_or_moment, parse_optional
from callrec_ari.errors import InputError
from callrec_ari.lifecycle import holds
from callrec_ari.lifecycle.holds import Hold, HoldRequest
from callrec_ari.routing import store as routing
from callrec_ari.web.keys import CLOCK, OFFSITE, SESSIONS, SETTINGS
from callrec_ari.web.request import allowed, done, fields, page, path_id

routes = web.RouteTableDef()


def _json(hold: Hold) -> dict[str, Any]:
    def when(moment: Any) -> str | None:
        return moment.isoformat() if moment is not None else None

    return {
        "id": hold.id,
        "case_reference": hold.case_reference,
        "reason": hold.reason,
        "placed_by": hold.placed_by,
        "placed_at": when(hold.placed_at),
        "ends_at": when(hold.ends_at),
        "number": hold.number_e164,
        "period_from": when(hold.period_from),
        "period_to": when(hold.period_to),
        "released_at": when(hold.released_at),
        "released_by": hold.released_by,
        "release_reason": hold.release_reason,
        "calls": hold.calls,
        "active": hold.active,
    }


def _request(given: dict[str, str], placed_by: str) -> HoldRequest:
    return HoldRequest(
        case_reference=given.get("case_reference", ""),
        reason=given.get("reason", ""),
        placed_by=placed_by,
        ends_at=parse_optional(given.get("ends_at"), field="ends_at", end_of_day=True),
    )


async def _list(request: web.Request) -> list[Hold]:
    allowed(request, may_hold)
    everything = request.query.get("all") == "yes"
    return await holds.list_holds(
        request.app[SESSIONS], now=request.app[CLOCK](), include_inactive=everything
    )


@routes.get("/holds")
async def holds_page(request: web.Request) -> web.StreamResponse:
    """The holds in force (or all, with ?all=yes), and the form to hold a number's calls."""
    found = await _list(request)
    return await page(request, "holds.html", {"holds": found, "all": request.query.get("all")})


@routes.get("/api/holds")
async def holds_api(request: web.Request) -> web.StreamResponse:
    """Holds as JSON."""
    return web.json_response({"holds": [_json(hold) for hold in await _list(request)]})


@routes.post("/holds")
@routes.post("/api/holds")
async def hold_number(request: web.Request) -> web.StreamResponse:
    """Hold every stored call of a number in a period."""
    account = allowed(request, may_hold)
    given = await fields(request)
    start, end = given.get("from", "").strip(), given.get("to", "").strip()
    if not start or not end:
        raise InputError("A hold on a number needs the period's start and end dates.")
    hold = await holds.hold_number(
        request.app[SESSIONS],
        _request(given, account.username),
        given.get("number", ""),
        period_from=parse_day_or_moment(start, field="from"),
        period_to=parse_day_or_moment(end, field="to", end_of_day=True),
        region=request.app[SETTINGS].numbers_region,
        now=request.app[CLOCK](),
    )
    return done(request, to="/holds", body=_json(hold), status=201)


@routes.post("/calls/{uniqueid}/holds")
@routes.post("/api/calls/{uniqueid}/holds")
async def hold_call(request: web.Request) -> web.StreamResponse:
    """Hold this one call."""
    account = allowed(request, may_hold)
    given = await fields(request)
    hold = await holds.hold_calls(
        request.app[SESSIONS],
        _request(given, account.username),
        [request.match_info["uniqueid"]],
        now=request.app[CLOCK](),
    )
    return done(request, to=f"/holds#hold-{hold.id}", body=_json(hold), status=201)


@routes.post("/holds/{hold_id}/release")
@routes.post("/api/holds/{hold_id}/release")
async def release(request: web.Request) -> web.StreamResponse:
    """Release a hold; calls past their date are deleted at once (the API answers with the
    hold, the calls other holds still keep, and the calls deleted)."""
    account = allowed(request, may_hold)
    given = await fields(request)
    settings = request.app[SETTINGS]
    hold_id = path_id(request, "hold_id", what="Hold")
    async with request.app[SESSIONS]() as db:
        retention = (await routing.effective(db, settings)).retention
    released = await holds.release_hold(
        request.app[SESSIONS],
        hold_id,
        released_by=account.username,
        reason=given.get("reason", ""),
        now=request.app[CLOCK](),
        recordings_dir=settings.recording.service_dir,
        retention=retention,
        batch_size=settings.lifecycle.purge_batch_size,
        offsite=request.app.get(OFFSITE),
    )
    return done(
        request,
        to="/holds",
        body={
            "hold": _json(released.hold),
            "still_held": released.still_held,
            "deleted": released.purged.reduced,
        },
    )
