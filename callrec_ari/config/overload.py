"""``[overload]``: when callrec sheds new calls rather than make callers wait (issue 13 §2).

The limits are read here; ``flow/overload.py`` applies them. Every limit may be 0 (off); a
limit that is negative or not a number is refused with the key's name.
"""

from __future__ import annotations

from dataclasses import dataclass

from callrec_ari.config.table import Table
from callrec_ari.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class OverloadLimits:
    """Above any of these a new call is connected unrecorded at once (``overloaded``); 0
    turns one limit off, ``enabled = false`` all of them."""

    enabled: bool = True
    event_delay_seconds: float = 0.5
    loop_lag_seconds: float = 0.25
    ari_latency_seconds: float = 0.5
    max_calls_in_consent: int = 0
    hold_seconds: float = 2.0


def parse_overload(table: Table) -> OverloadLimits:
    """The ``[overload]`` table (absent: the defaults)."""
    default = OverloadLimits()
    enabled = table.get("enabled", bool, default.enabled)
    limits = {
        key: table.get(key, float, getattr(default, key))
        for key in (
            "event_delay_seconds",
            "loop_lag_seconds",
            "ari_latency_seconds",
            "hold_seconds",
        )
    }
    calls = table.get("max_calls_in_consent", int, default.max_calls_in_consent)
    for key, value in (*limits.items(), ("max_calls_in_consent", calls)):
        if value < 0:
            raise ConfigError(f"Config key {table.key(key)} must be 0 (off) or more.")
    return OverloadLimits(enabled=enabled, max_calls_in_consent=calls, **limits)
