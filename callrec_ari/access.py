"""Who may do what with a call: pure rules, no I/O, shared by the CLI and the staff web app.

=========== ====================== ========================================================
role        sees / plays            also
=========== ====================== ========================================================
agent       own calls (extension)   -
supervisor  all calls               places and releases legal holds; asks for a release;
                                    marks calls for training, plays and deletes the copies
director    all calls               approves or refuses releases to third parties
dpo         all calls, restricted   data-subject requests, do-not-record list, audit trail,
            ones too                exports answering a request; asks for a release
admin       metadata, never audio   users and roles, prompts
trainer     no call at all          plays the anonymised training copies, nothing else
=========== ====================== ========================================================

A person may hold several roles and may do what any of them allows. A restricted call
(GDPR Art. 18, seed 004) is played or exported by the dpo only; agents listen only to their
own calls (seed 003). Audio leaves callrec in exactly two ways, and nobody downloads a call
directly: a release asked for by a supervisor or the dpo and approved by a director who is
not the asker (seed 000 §7.2), or the dpo's export answering the data subject's own open
access or portability request (``rights/export.py``, which also enforces seed 004's consent
of all parties). Every copy either way is written to the copy register (``copies/``).

A training copy (seed 003 §9, ``training/``) is no copy of a recording in that sense: a new
recording made from the call's two legs with the caller's voice disguised or left out and
the marked spans silenced, kept in a library of its own that trainers play without seeing
any call.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Role(enum.StrEnum):
    """A member of staff's role."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    DPO = "dpo"  # the data-protection officer
    DIRECTOR = "director"
    ADMIN = "admin"  # runs the system; sees metadata for troubleshooting, never audio
    TRAINER = "trainer"  # plays anonymised training copies (seed 003 §9); sees no call


@dataclass(frozen=True, kw_only=True)
class Actor:
    """Someone acting on calls: a person in the web app, or the operator at the CLI."""

    name: str
    roles: frozenset[Role]
    extension: str | None = None  # an agent's own extension or endpoint, as calls store it

    @classmethod
    def of(cls, name: str, *roles: Role, extension: str | None = None) -> Actor:
        """An actor holding ``roles``."""
        return cls(name=name, roles=frozenset(roles), extension=extension)

    def holds(self, roles: Iterable[Role]) -> bool:
        """Whether the actor holds any of ``roles``."""
        return not self.roles.isdisjoint(roles)

    @property
    def described(self) -> str:
        """Name and roles, for error messages: ``anna (dpo, supervisor)``."""
        return f"{self.name} ({', '.join(sorted(self.roles)) or 'no role'})"


@dataclass(frozen=True, kw_only=True)
class CallFacts:
    """What the rules need to know about one call."""

    agent: str | None
    restricted: bool
    # Every agent a queue or a transfer brought on (calls/agents.py); ``agent`` is the first.
    agents: frozenset[str] = frozenset()


_SEE_ALL = frozenset({Role.SUPERVISOR, Role.DPO, Role.DIRECTOR, Role.ADMIN})
_PLAY_ALL = frozenset({Role.SUPERVISOR, Role.DPO, Role.DIRECTOR})
# Exports answer data subjects' requests, which only the dpo handles: a director approves
# releases and takes no copies himself.
_EXPORTERS = frozenset({Role.DPO})
_RELEASE_ASKERS = frozenset({Role.SUPERVISOR, Role.DPO})
_TRAINING_MARKERS = frozenset({Role.SUPERVISOR})
_TRAINING_PLAYERS = frozenset({Role.TRAINER, Role.SUPERVISOR})


def _own(actor: Actor, call: CallFacts) -> bool:
    return (
        Role.AGENT in actor.roles
        and actor.extension is not None
        and (actor.extension == call.agent or actor.extension in call.agents)
    )


def may_see(actor: Actor, call: CallFacts) -> bool:
    """Whether ``actor`` may see the call's metadata (number, times, agent)."""
    return actor.holds(_SEE_ALL) or _own(actor, call)


def may_play(actor: Actor, call: CallFacts) -> bool:
    """Whether ``actor`` may listen to the call's recording."""
    if call.restricted:
        return Role.DPO in actor.roles
    return actor.holds(_PLAY_ALL) or _own(actor, call)


def may_play_any(actor: Actor) -> bool:
    """Whether any of ``actor``'s roles lets them listen to some call (not the admin's)."""
    return actor.holds(_PLAY_ALL) or Role.AGENT in actor.roles


def may_ask_any_release(actor: Actor) -> bool:
    """Whether any of ``actor``'s roles lets them ask for releases at all."""
    return actor.holds(_RELEASE_ASKERS)


def may_see_calls(actor: Actor) -> bool:
    """Whether any of ``actor``'s roles lets them see some call at all (a trainer's does not)."""
    return actor.holds(_SEE_ALL) or Role.AGENT in actor.roles


def may_search_all(actor: Actor) -> bool:
    """Whether ``actor`` may search every call, not only their own."""
    return actor.holds(_SEE_ALL)


def may_export_any(actor: Actor) -> bool:
    """Whether ``actor``'s roles may write data-subject exports at all (each needs an open
    access or portability request of the number as well)."""
    return actor.holds(_EXPORTERS)


def may_export(actor: Actor, call: CallFacts) -> bool:
    """Whether ``actor`` may put the call's recording into an export package."""
    if call.restricted:
        return Role.DPO in actor.roles
    return may_export_any(actor)


def may_handle_requests(actor: Actor) -> bool:
    """Whether ``actor`` may act on data-subject rights: requests, erasure, rectification..."""
    return Role.DPO in actor.roles


def may_hold(actor: Actor) -> bool:
    """Whether ``actor`` may place and release legal holds."""
    return Role.SUPERVISOR in actor.roles


def may_ask_release(actor: Actor, call: CallFacts) -> bool:
    """Whether ``actor`` may ask the director to release the call's recording to a third party."""
    return actor.holds(_RELEASE_ASKERS) and may_play(actor, call)


def may_decide_release(actor: Actor) -> bool:
    """Whether ``actor`` may approve or refuse a release (seed 000 §7.2: the director)."""
    return Role.DIRECTOR in actor.roles


def may_read_audit(actor: Actor) -> bool:
    """Whether ``actor`` may read and export the audit trail."""
    return Role.DPO in actor.roles


def may_administer(actor: Actor) -> bool:
    """Whether ``actor`` may manage users, roles and prompts."""
    return Role.ADMIN in actor.roles


def may_read_evidence(actor: Actor) -> bool:
    """Whether ``actor`` may read calls' consent evidence: the dpo, who proves to an authority
    what callers were told (agents and admins have no need: the call's consent column
    already says what they may know)."""
    return Role.DPO in actor.roles


def may_mark_for_training(actor: Actor) -> bool:
    """Whether ``actor`` may mark calls for training copies (seed 003 §9: the supervisor, who
    must also be allowed to play the call) and delete copies from the library."""
    return actor.holds(_TRAINING_MARKERS)


def may_play_training(actor: Actor) -> bool:
    """Whether ``actor`` may list and play the anonymised training copies."""
    return actor.holds(_TRAINING_PLAYERS)
