"""The admin changes retention policies and the routes of dialled numbers at run time.

The running call service picks a change up within ``[service] settings_refresh_seconds``;
calls already under way keep the route they started with.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor
from callrec_ari.config import Settings
from callrec_ari.errors import CallrecError, InputError
from callrec_ari.routing import store as routing
from callrec_ari.routing.overrides import DEFAULT_DID, route_change
from callrec_ari.web.admin import administrator
from callrec_ari.web.keys import CLOCK, SESSIONS, SETTINGS
from callrec_ari.web.request import client_of, failure, fields

routes = web.RouteTableDef()


class _Change:
    """What every change needs: the session, the admin, the config, the time, the client."""

    def __init__(self, db: AsyncSession, request: web.Request, admin: Actor) -> None:
        self.db = db
        self.by = admin
        self.settings: Settings = request.app[SETTINGS]
        self.now: datetime = request.app[CLOCK]()
        self.client = client_of(request)


Work = Callable[[_Change, dict[str, str]], Awaitable[Settings]]


async def _change(request: web.Request, work: Work) -> None:
    """Run one change for the signed-in admin in one transaction; errors as 403/404/400."""
    account = administrator(request)
    given = await fields(request)
    try:
        async with request.app[SESSIONS]() as db, db.begin():
            await work(_Change(db, request, account.actor), given)
    except CallrecError as exc:
        raise failure(request, exc) from None


def _days(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InputError(f"The number of days {text[:20]!r} is not a whole number.") from None


def _did(given: dict[str, str]) -> str:
    return given.get("did", "").strip() or DEFAULT_DID


async def _set_policy(change: _Change, given: dict[str, str]) -> Settings:
    return await routing.set_policy(
        change.db,
        by=change.by,
        settings=change.settings,
        name=given.get("name", ""),
        days=_days(given.get("days", "")),
        now=change.now,
        client=change.client,
    )


async def _set_route(change: _Change, given: dict[str, str]) -> Settings:
    route = route_change(
        _did(given),
        languages=given.get("languages", "").replace(" ", ",").split(","),
        prompt=given.get("prompt", "announcement").strip(),
        retention=given.get("retention", "").strip(),
        on_decline=given.get("on_decline", "connect").strip(),
    )
    return await routing.set_route(
        change.db,
        by=change.by,
        settings=change.settings,
        change=route,
        now=change.now,
        client=change.client,
    )


async def _remove_route(change: _Change, given: dict[str, str]) -> Settings:
    return await routing.remove_route(
        change.db,
        by=change.by,
        settings=change.settings,
        did=_did(given),
        now=change.now,
        client=change.client,
    )


@routes.post("/admin/settings/policies")
async def policy_form(request: web.Request) -> web.StreamResponse:
    """Set how many days a policy keeps recordings (or add a policy)."""
    await _change(request, _set_policy)
    raise web.HTTPSeeOther("/admin/settings#retention")


@routes.post("/api/admin/settings/policies")
async def policy_api(request: web.Request) -> web.StreamResponse:
    """Set or add a retention policy, as JSON."""
    await _change(request, _set_policy)
    return web.json_response({"saved": True})


@routes.post("/admin/settings/routes")
async def route_form(request: web.Request) -> web.StreamResponse:
    """Set what callers to a dialled number hear, and how long they are kept."""
    await _change(request, _set_route)
    raise web.HTTPSeeOther("/admin/settings#routes")


@routes.post("/api/admin/settings/routes")
async def route_api(request: web.Request) -> web.StreamResponse:
    """Set a dialled number's route, as JSON."""
    await _change(request, _set_route)
    return web.json_response({"saved": True})


@routes.post("/admin/settings/routes/remove")
async def remove_form(request: web.Request) -> web.StreamResponse:
    """Go back to the config file's route for a dialled number."""
    await _change(request, _remove_route)
    raise web.HTTPSeeOther("/admin/settings#routes")


@routes.post("/api/admin/settings/routes/remove")
async def remove_api(request: web.Request) -> web.StreamResponse:
    """Go back to the config file's route, as JSON."""
    await _change(request, _remove_route)
    return web.json_response({"removed": True})
