"""Applying the admin's routes and retention policies over the config file's: pure.

The config file gives the starting routes and policies; the admin's stored changes replace
a policy's period (days or calendar months), add policies, replace or add the route of a
dialled number (``*`` is the default route), and change the organisation profile and the
processing of a number's recordings (``profile/changes.py``). A route the admin replaces
keeps the config file's processing of that number unless the admin changed that too.
Removing a stored change brings the config file's value back. A change applies to calls
from then on: calls already stored keep the deletion date they were given, the period their
callers were told.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from callrec_ari.config import DeclineAction, RetentionPolicy, Route, Settings
from callrec_ari.errors import InputError
from callrec_ari.names import LANGUAGE, SOUND_NAME
from callrec_ari.profile.changes import NO_CHANGES, ProfileChanges, apply_profile

DEFAULT_DID = "*"  # the stored key of the default route
_DID = re.compile(r"[0-9A-Za-z+*#._-]{1,64}")
_POLICY = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_DAYS = 3660  # ten years: a typo of extra digits is refused, not kept for a century
MAX_MONTHS = 120


@dataclass(frozen=True, kw_only=True)
class RouteChange:
    """The admin's route for one dialled number (or ``*``, the default route)."""

    did: str
    route: Route


def policy(name: str, days: int | None = None, *, months: int | None = None) -> RetentionPolicy:
    """A checked retention policy of ``days`` or calendar ``months`` (exactly one);
    ``InputError`` naming what is wrong."""
    if not _POLICY.fullmatch(name):
        raise InputError(f"The policy name {name[:70]!r} may use only letters, digits, . _ -.")
    if (days is None) == (months is None):
        raise InputError(f"The policy {name} needs a number of days or of months (one).")
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise InputError(f"A retention policy keeps recordings 1 to {MAX_DAYS} days, not {days}.")
    if months is not None and not 1 <= months <= MAX_MONTHS:
        raise InputError(
            f"A retention policy keeps recordings 1 to {MAX_MONTHS} months, not {months}."
        )
    return RetentionPolicy(name=name, days=days, months=months)


def route_change(
    did: str,
    *,
    languages: Iterable[str],
    prompt: str,
    retention: str,
    on_decline: str,
) -> RouteChange:
    """A checked route; ``InputError`` naming the field at fault."""
    did = did.strip()
    if not _DID.fullmatch(did):
        raise InputError(f"The dialled number {did[:70]!r} is not a number Asterisk could pass.")
    langs = tuple(language.strip() for language in languages if language.strip())
    if not langs:
        raise InputError("A route needs at least one language.")
    for language in langs:
        if not LANGUAGE.fullmatch(language):
            raise InputError(f"{language[:20]!r} is not a language code such as pl or sv.")
    if not SOUND_NAME.fullmatch(prompt):
        raise InputError(f"The prompt name {prompt[:70]!r} may use only letters, digits, _ -.")
    try:
        decline = DeclineAction(on_decline)
    except ValueError:
        allowed = ", ".join(action.value for action in DeclineAction)
        raise InputError(f"On decline must be one of {allowed}, not {on_decline[:20]!r}.") from None
    return RouteChange(
        did=did,
        route=Route(languages=langs, prompt=prompt, retention=retention, on_decline=decline),
    )


def apply(
    settings: Settings,
    policies: Iterable[RetentionPolicy],
    routes: Iterable[RouteChange],
    profile: ProfileChanges = NO_CHANGES,
) -> Settings:
    """``settings`` with the stored changes applied; ``InputError`` if a route would name a
    policy that does not exist, or a processing a number that has no route."""
    retention: dict[str, RetentionPolicy] = dict(settings.retention)
    retention.update({stored.name: stored for stored in policies})
    by_did: dict[str, Route] = dict(settings.routes)
    default = settings.default_route
    # The admin's pages do not set the agent's tone: a route keeps the config file's (a new
    # number, the default route's).
    tone = {did: route.agent_tone for did, route in settings.routes.items()}
    for change in routes:
        if change.did == DEFAULT_DID:
            default = dataclasses.replace(
                change.route, agent_tone=settings.default_route.agent_tone
            )
        else:
            before = by_did.get(change.did)
            kept = before.processing if before is not None else None
            by_did[change.did] = dataclasses.replace(
                change.route,
                processing=change.route.processing or kept,
                agent_tone=tone.get(change.did, settings.default_route.agent_tone),
            )
    for did, processing in profile.processing.items():
        if did == DEFAULT_DID:
            continue
        if did not in by_did:
            raise InputError(
                f"The processing of {did} needs a route for {did}; set the route first."
            )
        by_did[did] = dataclasses.replace(by_did[did], processing=processing)
    check(retention, default, by_did)
    return dataclasses.replace(
        settings,
        retention=retention,
        routes=by_did,
        default_route=default,
        profile=apply_profile(settings.profile, profile),
    )


def check(
    retention: Mapping[str, RetentionPolicy], default: Route, routes: Mapping[str, Route]
) -> None:
    """``InputError`` unless every route names a known retention policy."""
    for did, route in [(DEFAULT_DID, default), *routes.items()]:
        if route.retention not in retention:
            where = "the default route" if did == DEFAULT_DID else f"the route of {did}"
            raise InputError(
                f"{where.capitalize()} names an unknown retention policy {route.retention!r}."
            )
