"""Who may do what with a call: pure rules, no I/O, shared by the CLI and the staff web app.

=========== ============================ ============== =====================
role        sees metadata / plays audio  exports a copy  handles GDPR requests
=========== ============================ ============== =====================
agent       own calls (extension)        no             no
supervisor  all calls                    no             no
director    all calls                    yes            no
dpo         all calls                    yes            yes
admin       metadata only, never audio   no             no
=========== ============================ ============== =====================

A restricted call (GDPR Art. 18, seed 004) is played or exported by the dpo only. A copy
leaving the system needs the director's consent (seed 000), hence export is the director's
and the data-protection officer's; agents listen only to their own calls (seed 003).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.StrEnum):
    """A member of staff's role."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    DPO = "dpo"  # the data-protection officer
    DIRECTOR = "director"
    ADMIN = "admin"  # runs the system; sees metadata for troubleshooting, never audio


@dataclass(frozen=True, kw_only=True)
class Actor:
    """Someone acting on calls: a person in the web app, or the operator at the CLI."""

    name: str
    role: Role
    extension: str | None = None  # an agent's own extension or endpoint, as calls store it


@dataclass(frozen=True, kw_only=True)
class CallFacts:
    """What the rules need to know about one call."""

    agent: str | None
    restricted: bool


_SEE_ALL = frozenset({Role.SUPERVISOR, Role.DPO, Role.DIRECTOR, Role.ADMIN})
_PLAY_ALL = frozenset({Role.SUPERVISOR, Role.DPO, Role.DIRECTOR})
_EXPORTERS = frozenset({Role.DPO, Role.DIRECTOR})


def _own(actor: Actor, call: CallFacts) -> bool:
    return actor.extension is not None and actor.extension == call.agent


def may_see(actor: Actor, call: CallFacts) -> bool:
    """Whether ``actor`` may see the call's metadata (number, times, agent)."""
    return actor.role in _SEE_ALL or (actor.role is Role.AGENT and _own(actor, call))


def may_play(actor: Actor, call: CallFacts) -> bool:
    """Whether ``actor`` may listen to the call's recording."""
    if call.restricted:
        return actor.role is Role.DPO
    return actor.role in _PLAY_ALL or (actor.role is Role.AGENT and _own(actor, call))


def may_export_any(actor: Actor) -> bool:
    """Whether ``actor``'s role may take copies of recordings out of the system at all."""
    return actor.role in _EXPORTERS


def may_export(actor: Actor, call: CallFacts) -> bool:
    """Whether ``actor`` may put the call's recording into an export package."""
    if call.restricted:
        return actor.role is Role.DPO
    return may_export_any(actor)


def may_handle_requests(actor: Actor) -> bool:
    """Whether ``actor`` may act on data-subject rights: requests, erasure, rectification..."""
    return actor.role is Role.DPO
