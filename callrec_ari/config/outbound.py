"""Outbound calls with consent (seed 004): off unless ``[outbound] enabled = true``.

Seed 000 never records a call placed by staff, so that stays the default. When enabled, a
staff phone's call that the dialplan sends through ``callrec-outbound`` is matched here by
the callee's number (longest prefix first): the callee hears the route's announcement and
is recorded only after pressing ``agree_key``. A number no route matches, or any call while
outbound is disabled, is connected unrecorded and leaves no row. In the conversation the
callee withdraws with ``[consent] decline_key``, so no route's agree key may be that key.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from callrec_ari.config.table import Table
from callrec_ari.errors import ConfigError
from callrec_ari.names import SOUND_NAME

_PREFIX = re.compile(r"\+?[0-9]{0,32}")
_CONTEXT = re.compile(r"[A-Za-z0-9_-]{1,79}")
_DTMF = frozenset("0123456789*#")
OUTBOUND_PROMPT = "outbound-announcement"


class NoConsentAction(enum.StrEnum):
    """What happens to an outbound call whose callee did not agree (other key or no key)."""

    CONNECT = "connect"  # the staff member and the callee talk, unrecorded
    HANGUP = "hangup"  # the call ends before the two are connected


@dataclass(frozen=True, kw_only=True)
class OutboundRoute:
    """How calls to numbers starting with one of ``prefixes`` ask for consent."""

    prefixes: tuple[str, ...]  # "" matches every number
    languages: tuple[str, ...]
    retention: str
    prompt: str = OUTBOUND_PROMPT
    agree_key: str = "1"
    timeout_seconds: float = 10.0  # after the announcement's end, waiting for a key
    on_no_consent: NoConsentAction = NoConsentAction.CONNECT


@dataclass(frozen=True, kw_only=True)
class OutboundSettings:
    """The opt-in outbound routes and the dialplan contexts their calls go on to."""

    enabled: bool = False
    routes: tuple[OutboundRoute, ...] = ()
    record_context: str = "callrec-outbound-record"
    unrecorded_context: str = "callrec-outbound-unrecorded"
    hangup_context: str = "callrec-outbound-end"

    def route_for(self, number: str) -> OutboundRoute | None:
        """The route of the callee's ``number`` (longest matching prefix), or ``None`` when
        outbound consent is off or no route matches: then the call is never recorded."""
        if not self.enabled:
            return None
        best: tuple[int, OutboundRoute] | None = None
        for route in self.routes:
            for prefix in route.prefixes:
                if number.startswith(prefix) and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), route)
        return best[1] if best else None


def parse_outbound(
    table: Table,
    raw_routes: Any,
    retention: Collection[str],
    *,
    decline_key: str | None = None,
) -> OutboundSettings:
    """``[outbound]`` and ``[[outbound_route]]`` checked against the retention policy names
    and ``[consent] decline_key``, which an agree key may not be."""
    enabled = table.get("enabled", bool, False)
    routes = _routes(raw_routes, retention, decline_key)
    if enabled and not routes:
        raise ConfigError(
            "Config key outbound.enabled is true but no [[outbound_route]] is configured."
        )
    return OutboundSettings(
        enabled=enabled,
        routes=routes,
        record_context=table.matching("record_context", _CONTEXT, "callrec-outbound-record"),
        unrecorded_context=table.matching(
            "unrecorded_context", _CONTEXT, "callrec-outbound-unrecorded"
        ),
        hangup_context=table.matching("hangup_context", _CONTEXT, "callrec-outbound-end"),
    )


def _routes(
    raw: Any, retention: Collection[str], decline_key: str | None
) -> tuple[OutboundRoute, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError("Config key outbound_route must be an array of tables.")
    routes: list[OutboundRoute] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise ConfigError(f"Config key outbound_route[{index}] must be a table.")
        route = _route(Table(item, f"outbound_route[{index}]"), retention, decline_key)
        for prefix in route.prefixes:
            if prefix in seen:
                raise ConfigError(
                    f"Config key outbound_route[{index}].prefixes repeats the prefix {prefix!r}."
                )
            seen.add(prefix)
        routes.append(route)
    return tuple(routes)


def _route(table: Table, retention: Collection[str], decline_key: str | None) -> OutboundRoute:
    prefixes = table.raw("prefixes")
    if not isinstance(prefixes, list) or not prefixes:
        raise ConfigError(f"Config key {table.key('prefixes')} must be a non-empty list.")
    for prefix in prefixes:
        if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
            raise ConfigError(
                f"Config key {table.key('prefixes')} has an invalid prefix {prefix!r} "
                '(digits, optionally after +; "" matches every number).'
            )
    languages = table.languages()
    policy = table.policy(retention)
    key = table.get("agree_key", str, "1")
    if key not in _DTMF:
        raise ConfigError(
            f"Config key {table.key('agree_key')} must be one DTMF key 0-9, * or # (got {key!r})."
        )
    if key == decline_key:
        # In the conversation the decline key withdraws: a callee pressing the agree key twice
        # (or a phone repeating it) would take back at once the consent just given.
        raise ConfigError(
            f"Config key {table.key('agree_key')} must differ from consent.decline_key "
            f"({key!r}), which withdraws consent during the call."
        )
    return OutboundRoute(
        prefixes=tuple(prefixes),
        languages=languages,
        retention=policy,
        prompt=table.matching("prompt", SOUND_NAME, OUTBOUND_PROMPT),
        agree_key=key,
        timeout_seconds=table.positive("timeout_seconds", 10.0),
        on_no_consent=table.choice("on_no_consent", NoConsentAction, "connect"),
    )
