"""The admin changes retention policies, the routes of dialled numbers and the organisation
profile (its fields, each number's processing) at run time.

The running call service picks a change up within ``[service] settings_refresh_seconds``;
calls already under way keep the route they started with.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web

from callrec_ari.access import Actor
from callrec_ari.config import Settings
from callrec_ari.db.session import DbSession
from callrec_ari.errors import InputError
from callrec_ari.profile import edit as profile_edit
from callrec_ari.profile.changes import FIELDS, processing
from callrec_ari.routing import store as routing
from callrec_ari.routing.overrides import DEFAULT_DID, route_change
from callrec_ari.web.admin import administrator
from callrec_ari.web.keys import CLOCK, SESSIONS, SETTINGS
from callrec_ari.web.request import client_of, done, fields

routes = web.RouteTableDef()


class _Change:
    """What every change needs: the session, the admin, the config, the time, the client."""

    def __init__(self, db: DbSession, request: web.Request, admin: Actor) -> None:
        self.db = db
        self.by = admin
        self.settings: Settings = request.app[SETTINGS]
        self.now: datetime = request.app[CLOCK]()
        self.client = client_of(request)


Work = Callable[[_Change, dict[str, str]], Awaitable[Settings]]


async def _change(
    request: web.Request, work: Work, *, to: str, said: str = "saved"
) -> web.StreamResponse:
    """Run one change for the signed-in admin in one transaction; back to the settings page
    ``to`` (the API answers ``{said: true}``)."""
    account = administrator(request)
    given = await fields(request)
    async with request.app[SESSIONS]() as db, db.begin():
        await work(_Change(db, request, account.actor), given)
    return done(request, to=to, body={said: True})


def _count(text: str, unit: str) -> int | None:
    if not text.strip():
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise InputError(f"The number of {unit} {text[:20]!r} is not a whole number.") from None


def _did(given: dict[str, str]) -> str:
    return given.get("did", "").strip() or DEFAULT_DID


async def _set_policy(change: _Change, given: dict[str, str]) -> Settings:
    return await routing.set_policy(
        change.db,
        by=change.by,
        settings=change.settings,
        name=given.get("name", ""),
        days=_count(given.get("days", ""), "days"),
        months=_count(given.get("months", ""), "months"),
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


async def _set_profile(change: _Change, given: dict[str, str]) -> Settings:
    """Each profile field given and different from today's, one audited change each."""
    result = change.settings
    current = await routing.effective(change.db, change.settings)
    asked = {name: given[name].strip() for name in FIELDS if name in given}
    if not asked:
        raise InputError(f"Give at least one profile field ({', '.join(FIELDS)}).")
    for name, value in asked.items():
        if value == getattr(current.profile, name):
            continue
        result = await profile_edit.set_field(
            change.db,
            by=change.by,
            settings=change.settings,
            name=name,
            value=value,
            now=change.now,
            client=change.client,
        )
    return result


async def _set_processing(change: _Change, given: dict[str, str]) -> Settings:
    return await profile_edit.set_processing(
        change.db,
        by=change.by,
        settings=change.settings,
        did=_did(given),
        processing=processing(
            # "a, b" from the form's field, "['a', 'b']" from a JSON list made text
            purposes=re.findall(r"[a-z_]+", given.get("purposes", "")),
            purpose_text=given.get("purpose_text", ""),
            legal_basis=given.get("legal_basis", "consent"),
            recipients=given.get("recipients", ""),
            storage_country=given.get("storage_country", ""),
            transfers=given.get("transfers", ""),
        ),
        now=change.now,
        client=change.client,
    )


async def _remove_processing(change: _Change, given: dict[str, str]) -> Settings:
    return await profile_edit.remove_processing(
        change.db,
        by=change.by,
        settings=change.settings,
        did=_did(given),
        now=change.now,
        client=change.client,
    )


@routes.post("/admin/settings/profile")
@routes.post("/api/admin/settings/profile")
async def profile(request: web.Request) -> web.StreamResponse:
    """Set the controller's name and address, the DPO, the notice address, the authority."""
    return await _change(request, _set_profile, to="/admin/settings#profile")


@routes.post("/admin/settings/processing")
@routes.post("/api/admin/settings/processing")
async def processing_change(request: web.Request) -> web.StreamResponse:
    """Set what a dialled number's recordings are for, on what basis, where, for whom."""
    return await _change(request, _set_processing, to="/admin/settings#processing")


@routes.post("/admin/settings/processing/remove")
@routes.post("/api/admin/settings/processing/remove")
async def processing_remove(request: web.Request) -> web.StreamResponse:
    """Go back to the config file's processing for a dialled number."""
    return await _change(
        request, _remove_processing, to="/admin/settings#processing", said="removed"
    )


@routes.post("/admin/settings/policies")
@routes.post("/api/admin/settings/policies")
async def policy(request: web.Request) -> web.StreamResponse:
    """Set how many days or calendar months a policy keeps recordings (or add a policy)."""
    return await _change(request, _set_policy, to="/admin/settings#retention")


@routes.post("/admin/settings/routes")
@routes.post("/api/admin/settings/routes")
async def route(request: web.Request) -> web.StreamResponse:
    """Set what callers to a dialled number hear, and how long they are kept."""
    return await _change(request, _set_route, to="/admin/settings#routes")


@routes.post("/admin/settings/routes/remove")
@routes.post("/api/admin/settings/routes/remove")
async def remove(request: web.Request) -> web.StreamResponse:
    """Go back to the config file's route for a dialled number."""
    return await _change(request, _remove_route, to="/admin/settings#routes", said="removed")
