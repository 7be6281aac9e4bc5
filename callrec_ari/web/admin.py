"""The admin's screens: what they share, and the view of retention policies and routes.

Users are in ``admin_users``, prompts in ``admin_prompts``. Every admin page and API answers
403 to anyone without the admin role, whatever else they hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from callrec_ari.access import may_administer
from callrec_ari.config import RetentionPolicy, Route, Settings
from callrec_ari.errors import InputError
from callrec_ari.profile.changes import FIELDS
from callrec_ari.profile.model import LegalBasis, Purpose
from callrec_ari.profile.stored import processing_json
from callrec_ari.prompts.catalog import route_languages
from callrec_ari.routing import store as routing
from callrec_ari.staff.accounts import Account
from callrec_ari.web.keys import SESSIONS, SETTINGS
from callrec_ari.web.request import allowed, page

routes = web.RouteTableDef()

_YES = frozenset({"yes", "true", "1", "on"})
_NO = frozenset({"no", "false", "0", "off"})


def administrator(request: web.Request) -> Account:
    """The signed-in admin; 403 for everyone else (401 or the sign-in page if nobody)."""
    return allowed(request, may_administer)


def flag(given: dict[str, str], name: str) -> bool:
    """A yes/no field (``yes``/``no`` from a form button, ``true``/``false`` from JSON)."""
    value = given.get(name, "").strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise InputError(f"The field {name} must be yes or no.")


@dataclass(frozen=True, kw_only=True)
class RouteRow:
    """One dialled number (``None`` for every other number) and what its callers hear."""

    did: str | None
    route: Route
    policy: RetentionPolicy
    processing: dict[str, Any]  # as JSON: the route's own, else the profile's

    @property
    def retention_days(self) -> int | None:
        """The policy's days, ``None`` for a policy in months."""
        return self.policy.days


def route_rows(settings: Settings) -> list[RouteRow]:
    """The DID routes by number, then the default route."""
    numbered: list[tuple[str | None, Route]] = [*sorted(settings.routes.items())]
    return [
        RouteRow(
            did=did,
            route=route,
            policy=settings.retention[route.retention],
            processing=processing_json(settings.processing_for(route)),
        )
        for did, route in [*numbered, (None, settings.default_route)]
    ]


def _route_json(row: RouteRow) -> dict[str, Any]:
    return {
        "did": row.did,
        "languages": list(row.route.languages),
        "prompt": row.route.prompt,
        "retention": row.route.retention,
        "retention_days": row.policy.days,
        "retention_months": row.policy.months,
        "on_decline": str(row.route.on_decline),
        "processing": row.processing,
    }


def _policy_json(policy: RetentionPolicy) -> dict[str, Any]:
    if policy.months is not None:
        return {"name": policy.name, "months": policy.months}
    return {"name": policy.name, "days": policy.days}


def _by_length(settings: Settings) -> list[RetentionPolicy]:
    return sorted(settings.retention.values(), key=lambda policy: policy.longest_days)


async def current_settings(request: web.Request) -> Settings:
    """The config file's settings with the admin's routes and policies applied."""
    async with request.app[SESSIONS]() as db:
        return await routing.effective(db, request.app[SETTINGS])


@routes.get("/admin/settings")
async def settings_page(request: web.Request) -> web.StreamResponse:
    """Retention policies and DID routes, with forms to change them."""
    administrator(request)
    settings = await current_settings(request)
    async with request.app[SESSIONS]() as db:
        policies, changes, profile = await routing.stored(db)
    return await page(
        request,
        "admin_settings.html",
        {
            "policies": _by_length(settings),
            "rows": route_rows(settings),
            "changed_policies": {policy.name for policy in policies},
            "changed_routes": {change.did for change in changes},
            "profile": settings.profile,
            "profile_fields": FIELDS,
            "changed_fields": set(profile.fields),
            "changed_processing": set(profile.processing),
            "purposes": list(Purpose),
            "legal_bases": list(LegalBasis),
            "known_languages": route_languages(settings),
            "error": None,
        },
    )


@routes.get("/api/admin/settings")
async def settings_api(request: web.Request) -> web.StreamResponse:
    """Retention policies and routes as JSON, as they apply now."""
    administrator(request)
    settings = await current_settings(request)
    return web.json_response(
        {
            "retention": [_policy_json(policy) for policy in _by_length(settings)],
            "routes": [_route_json(row) for row in route_rows(settings)],
            "profile": {
                **{name: getattr(settings.profile, name) for name in FIELDS},
                "processing": processing_json(settings.profile.processing),
                "filled_in": not settings.profile.placeholder,
            },
            "editable": True,
        }
    )
