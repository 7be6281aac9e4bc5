"""Which peers are alive, from their leases: pure, driven by the rounds of ``takeover``.

Every instance writes a global variable ``CALLREC_LEASE_<app>`` in Asterisk every
``renew_seconds`` while its event socket is up: a token of its process and a counter. A peer
is dead once its value has not changed for ``lease_seconds`` by *our* monotonic clock, so
the two machines' clocks never need to agree. A peer never seen alive is given
``lease_seconds`` from our start before it counts as dead. A dead peer is taken over once;
when its value moves again it is alive again (restarted) and may be taken over again later.

    alive ──value unchanged for lease_seconds──> dead (newly_dead returns it once)
      ^                                            │
      └──────────────value changes─────────────────┘
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

LEASE_PREFIX = "CALLREC_LEASE_"


def lease_variable(app: str) -> str:
    """The global variable holding the lease of the instance whose application is ``app``."""
    return LEASE_PREFIX + app


def new_token() -> str:
    """This process's part of its lease values: a restarted instance writes a new one."""
    return secrets.token_hex(4)


@dataclass(slots=True)
class _Peer:
    value: str | None
    changed_at: float
    dead: bool = False


class Leases:
    """What this instance knows of its peers' leases."""

    def __init__(self, peers: tuple[str, ...], *, lease_seconds: float, now: float) -> None:
        self._lease = lease_seconds
        self._peers = {peer: _Peer(value=None, changed_at=now) for peer in peers}

    def observe(self, peer: str, value: str, now: float) -> bool:
        """Note the value of ``peer``'s lease seen at ``now``; True if a dead peer is back.
        An empty value (never written, or Asterisk restarted) is no sign of life."""
        state = self._peers[peer]
        if not value or value == state.value:
            return False
        back = state.dead
        state.value, state.changed_at, state.dead = value, now, False
        return back

    def newly_dead(self, now: float) -> list[str]:
        """The peers whose lease stopped moving since the last call (each reported once)."""
        dead = []
        for peer, state in self._peers.items():
            if not state.dead and now - state.changed_at >= self._lease:
                state.dead = True
                dead.append(peer)
        return dead

    def retry(self, peer: str) -> None:
        """A take-over of ``peer`` failed: report it dead again at the next ``newly_dead``."""
        self._peers[peer].dead = False

    def view(self, now: float) -> dict[str, dict[str, object]]:
        """For ``/healthz``: each peer, alive or not, and how long ago its lease moved."""
        return {
            peer: {"alive": not state.dead, "lease_age_seconds": round(now - state.changed_at, 1)}
            for peer, state in self._peers.items()
        }
