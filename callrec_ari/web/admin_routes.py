"""The admin changes retention policies and the routes of dialled numbers at run time.

The running call service picks a change up within ``[service] settings_refresh_seconds``;
calls already under way keep the route they started with.
"""

from __future__ import annotations

from aiohttp import web

from callrec_ari.errors import CallrecError, InputError
from callrec_ari.routing import store as routing
from callrec_ari.routing.overrides import DEFAULT_DID, route_change
from callrec_ari.web.admin import administrator
from callrec_ari.web.keys import CLOCK, SESSIONS, SETTINGS
from callrec_ari.web.request import client_of, failure, fields

routes = web.RouteTableDef()


def _days(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InputError(f"The number of days {text[:20]!r} is not a whole number.") from None


async def _set_policy(request: web.Request) -> None:
    account = administrator(request)
    given = await fields(request)
    try:
        async with request.app[SESSIONS]() as db, db.begin():
            await routing.set_policy(
                db,
                by=account.actor,
                settings=request.app[SETTINGS],
                name=given.get("name", ""),
                days=_days(given.get("days", "")),
                now=request.app[CLOCK](),
                client=client_of(request),
            )
    except CallrecError as exc:
        raise failure(request, exc) from None


@routes.post("/admin/settings/policies")
async def policy_form(request: web.Request) -> web.StreamResponse:
    """Set how many days a policy keeps recordings (or add a policy)."""
    await _set_policy(request)
    raise web.HTTPSeeOther("/admin/settings#retention")


@routes.post("/api/admin/settings/policies")
async def policy_api(request: web.Request) -> web.StreamResponse:
    """Set or add a retention policy, as JSON."""
    await _set_policy(request)
    return web.json_response({"saved": True})


async def _set_route(request: web.Request) -> None:
    account = administrator(request)
    given = await fields(request)
    did = given.get("did", "").strip() or DEFAULT_DID
    try:
        change = route_change(
            did,
            languages=given.get("languages", "").replace(" ", ",").split(","),
            prompt=given.get("prompt", "announcement").strip(),
            retention=given.get("retention", "").strip(),
            on_decline=given.get("on_decline", "connect").strip(),
        )
        async with request.app[SESSIONS]() as db, db.begin():
            await routing.set_route(
                db,
                by=account.actor,
                settings=request.app[SETTINGS],
                change=change,
                now=request.app[CLOCK](),
                client=client_of(request),
            )
    except CallrecError as exc:
        raise failure(request, exc) from None


@routes.post("/admin/settings/routes")
async def route_form(request: web.Request) -> web.StreamResponse:
    """Set what callers to a dialled number hear, and how long they are kept."""
    await _set_route(request)
    raise web.HTTPSeeOther("/admin/settings#routes")


@routes.post("/api/admin/settings/routes")
async def route_api(request: web.Request) -> web.StreamResponse:
    """Set a dialled number's route, as JSON."""
    await _set_route(request)
    return web.json_response({"saved": True})


async def _remove_route(request: web.Request) -> None:
    account = administrator(request)
    given = await fields(request)
    try:
        async with request.app[SESSIONS]() as db, db.begin():
            await routing.remove_route(
                db,
                by=account.actor,
                settings=request.app[SETTINGS],
                did=given.get("did", "").strip() or DEFAULT_DID,
                now=request.app[CLOCK](),
                client=client_of(request),
            )
    except CallrecError as exc:
        raise failure(request, exc) from None


@routes.post("/admin/settings/routes/remove")
async def remove_form(request: web.Request) -> web.StreamResponse:
    """Go back to the config file's route for a dialled number."""
    await _remove_route(request)
    raise web.HTTPSeeOther("/admin/settings#routes")


@routes.post("/api/admin/settings/routes/remove")
async def remove_api(request: web.Request) -> web.StreamResponse:
    """Go back to the config file's route, as JSON."""
    await _remove_route(request)
    return web.json_response({"removed": True})
