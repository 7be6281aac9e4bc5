"""The admin's routes and retention policies in the database, and a copy on local disk.

Every change is checked against the whole resulting configuration before it is stored
(a route must name an existing policy), and audited in the same transaction. The running
service reads the changes every few seconds and keeps the last ones it saw in a file, so a
restart while the database is down still routes calls the way the admin last set.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor, may_administer
from callrec_ari.audit import trail
from callrec_ari.config import DeclineAction, RetentionPolicy, Route, Settings
from callrec_ari.db.models import PolicyChange
from callrec_ari.db.models import RouteChange as RouteRow
from callrec_ari.db.put import put_row
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError
from callrec_ari.profile.changes import ProfileChanges
from callrec_ari.profile.stored import profile_from_json, profile_json, stored_profile
from callrec_ari.routing.overrides import RouteChange, apply, policy

__all__ = [
    "Changes",
    "RouteChange",
    "effective",
    "load_cache",
    "policy",
    "remove_route",
    "save_cache",
    "set_policy",
    "set_route",
    "stored",
]

Changes = tuple[list[RetentionPolicy], list[RouteChange], ProfileChanges]


async def stored(session: AsyncSession) -> Changes:
    """The admin's policies, routes and profile changes, as stored."""
    policies = [
        RetentionPolicy(name=row.name, days=row.days, months=row.months)
        for row in await session.scalars(select(PolicyChange).order_by(PolicyChange.name))
    ]
    routes = [
        RouteChange(
            did=row.did,
            route=Route(
                languages=tuple(row.languages.split(",")),
                prompt=row.prompt,
                retention=row.retention,
                on_decline=DeclineAction(row.on_decline),
            ),
        )
        for row in await session.scalars(select(RouteRow).order_by(RouteRow.did))
    ]
    return policies, routes, await stored_profile(session)


async def effective(session: AsyncSession, settings: Settings) -> Settings:
    """``settings`` with the admin's changes applied."""
    return apply(settings, *await stored(session))


def _admin(by: Actor) -> None:
    if not may_administer(by):
        raise ForbiddenError(f"{by.described} may not change routes or retention policies.")


async def set_policy(
    session: AsyncSession,
    *,
    by: Actor,
    settings: Settings,
    name: str,
    days: int | None = None,
    months: int | None = None,
    now: datetime,
    client: str | None = None,
) -> Settings:
    """Set (or add) a retention policy of ``days`` or calendar ``months``; the resulting
    settings. The audit entry keeps the period before and after."""
    _admin(by)
    new = policy(name.strip(), days, months=months)
    policies, routes, profile = await stored(session)
    old = apply(settings, policies, routes, profile).retention.get(new.name)
    result = apply(settings, [*(p for p in policies if p.name != new.name), new], routes, profile)
    detail: dict[str, Any] = {"days": new.days, "before": old.days if old else None}
    if new.months is not None or (old is not None and old.months is not None):
        detail |= {"months": new.months, "months_before": old.months if old else None}
    await trail.append(
        session,
        at=now,
        actor=by.name,
        action="settings.policy",
        target=f"policy:{new.name}",
        detail=detail,
        client=client,
    )
    await put_row(
        session,
        PolicyChange,
        new.name,
        days=new.days,
        months=new.months,
        changed_at=now,
        changed_by=by.name,
    )
    return result


async def set_route(
    session: AsyncSession,
    *,
    by: Actor,
    settings: Settings,
    change: RouteChange,
    now: datetime,
    client: str | None = None,
) -> Settings:
    """Set (or add) the route of a dialled number; the resulting settings."""
    _admin(by)
    policies, routes, profile = await stored(session)
    result = apply(
        settings, policies, [*(r for r in routes if r.did != change.did), change], profile
    )
    await trail.append(
        session,
        at=now,
        actor=by.name,
        action="settings.route",
        target=f"route:{change.did}",
        detail=_route_json(change.route),
        client=client,
    )
    await put_row(
        session,
        RouteRow,
        change.did,
        languages=",".join(change.route.languages),
        prompt=change.route.prompt,
        retention=change.route.retention,
        on_decline=change.route.on_decline.value,
        changed_at=now,
        changed_by=by.name,
    )
    return result


async def remove_route(
    session: AsyncSession,
    *,
    by: Actor,
    settings: Settings,
    did: str,
    now: datetime,
    client: str | None = None,
) -> Settings:
    """Drop the admin's route of ``did``: the config file's applies again (if it has one)."""
    _admin(by)
    policies, routes, profile = await stored(session)
    if not any(route.did == did for route in routes):
        raise NotFoundError(f"No route set here for {did[:70]!r}; the config file's applies.")
    result = apply(settings, policies, [route for route in routes if route.did != did], profile)
    await trail.append(
        session,
        at=now,
        actor=by.name,
        action="settings.route.remove",
        target=f"route:{did}",
        client=client,
    )
    await session.execute(delete(RouteRow).where(RouteRow.did == did))
    return result


def _route_json(route: Route) -> dict[str, Any]:
    return {
        "languages": list(route.languages),
        "prompt": route.prompt,
        "retention": route.retention,
        "on_decline": route.on_decline.value,
    }


def save_cache(path: Path, changes: Changes) -> None:
    """Write the changes to ``path`` atomically (a temporary file, then a rename)."""
    policies, routes, profile = changes
    data = {
        "policies": [{"name": p.name, "days": p.days, "months": p.months} for p in policies],
        "routes": [{"did": r.did, **_route_json(r.route)} for r in routes],
        "profile": profile_json(profile),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
    temporary.replace(path)


def load_cache(path: Path) -> Changes:
    """The changes last saved in ``path``; none if there is no file. ``InputError`` if the
    file is damaged (the caller falls back to the config file's routes)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        policies = [
            policy(str(p["name"]), _count(p.get("days")), months=_count(p.get("months")))
            for p in data["policies"]
        ]
        routes = [
            RouteChange(
                did=str(r["did"]),
                route=Route(
                    languages=tuple(str(language) for language in r["languages"]),
                    prompt=str(r["prompt"]),
                    retention=str(r["retention"]),
                    on_decline=DeclineAction(r["on_decline"]),
                ),
            )
            for r in data["routes"]
        ]
        profile = profile_from_json(data.get("profile", {}))
    except FileNotFoundError:
        return [], [], ProfileChanges()
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"The saved routes in {path} cannot be read: {exc}.") from None
    return policies, routes, profile


def _count(value: Any) -> int | None:
    return None if value is None else int(value)
