"""Several callrec instances on one Asterisk (README, "Two instances"): off unless ``[ha]``
names the other instances.

Each instance registers a Stasis application of its own (``[ari] app``): two WebSockets on
one application name do not share it, the later one takes it and the earlier hears nothing
more. ``peers`` lists the other instances' application names; an instance whose lease has
not moved for ``lease_seconds`` is taken to be dead, and its calls are taken over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from callrec_ari.config.table import Table
from callrec_ari.errors import ConfigError

_APP = re.compile(r"[A-Za-z0-9_-]{1,79}")


@dataclass(frozen=True, kw_only=True)
class HaSettings:
    """The other instances sharing this Asterisk, and how soon a silent one is taken over."""

    peers: tuple[str, ...] = ()
    lease_seconds: float = 3.0

    @property
    def enabled(self) -> bool:
        """Whether other instances share this Asterisk."""
        return bool(self.peers)

    @property
    def renew_seconds(self) -> float:
        """How often an instance renews its own lease and looks at its peers' leases."""
        return self.lease_seconds / 4


def parse_ha(table: Table, *, app: str) -> HaSettings:
    """``[ha]``: the peers' application names (never our own ``app``) and the lease."""
    raw = table.raw("peers")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise ConfigError(f"Config key {table.key('peers')} must be a list of application names.")
    peers: list[str] = []
    for name in raw:
        if not isinstance(name, str) or not _APP.fullmatch(name):
            raise ConfigError(f"Config key {table.key('peers')} has an invalid name {name!r}.")
        if name == app:
            raise ConfigError(
                f"Config key {table.key('peers')} names this instance's own application "
                f"{app!r}; each instance needs an [ari] app of its own."
            )
        if name in peers:
            raise ConfigError(f"Config key {table.key('peers')} names {name!r} twice.")
        peers.append(name)
    lease = table.positive("lease_seconds", 3.0)
    if lease < 1.0:
        raise ConfigError(f"Config key {table.key('lease_seconds')} must be at least 1 second.")
    return HaSettings(peers=tuple(peers), lease_seconds=lease)
