"""Access rules: agents their own calls, supervisors all, restricted calls the dpo only."""

from __future__ import annotations

import dataclasses

import pytest

from callrec_ari.access import (
    Actor,
    CallFacts,
    Role,
    may_administer,
    may_ask_any_release,
    may_ask_release,
    may_decide_release,
    may_export,
    may_export_any,
    may_handle_requests,
    may_hold,
    may_mark_for_training,
    may_play,
    may_play_any,
    may_play_training,
    may_read_audit,
    may_search_all,
    may_see,
    may_see_calls,
)

OWN = CallFacts(agent="agent100", restricted=False)
OTHERS = CallFacts(agent="agent200", restricted=False)
RESTRICTED_OWN = CallFacts(agent="agent100", restricted=True)


def actor(role: Role, extension: str | None = None) -> Actor:
    return Actor.of(f"someone-{role}", role, extension=extension)


def test_an_agent_plays_only_their_own_calls():
    """The extension that answered is the agent's: that call yes, a colleague's no."""
    agent = actor(Role.AGENT, "agent100")
    assert may_play(agent, OWN)
    assert may_see(agent, OWN)
    assert not may_play(agent, OTHERS)
    assert not may_see(agent, OTHERS)


def test_an_agent_a_call_was_transferred_to_plays_all_of_it_and_a_third_does_not():
    """agent100 answered and passed the call to agent101: both may see and play the whole
    call; agent102, who never spoke on it, may do neither; a restricted one stays the dpo's."""
    transferred = CallFacts(agent="agent100", agents=frozenset({"agent101"}), restricted=False)
    for extension in ("agent100", "agent101"):
        assert may_see(actor(Role.AGENT, extension), transferred)
        assert may_play(actor(Role.AGENT, extension), transferred)
    assert not may_see(actor(Role.AGENT, "agent102"), transferred)
    assert not may_play(actor(Role.AGENT, "agent102"), transferred)
    restricted = dataclasses.replace(transferred, restricted=True)
    assert not may_play(actor(Role.AGENT, "agent101"), restricted)


def test_an_agent_without_an_extension_sees_nothing():
    """An agent account with no extension owns no call, even one nobody answered."""
    agent = actor(Role.AGENT)
    unanswered = CallFacts(agent=None, restricted=False)
    assert not may_see(agent, unanswered)
    assert not may_play(agent, unanswered)


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.DIRECTOR, Role.DPO])
def test_supervisors_directors_and_the_dpo_play_every_call(role):
    """Roles above the agent listen to any unrestricted call."""
    assert may_play(actor(role), OTHERS)
    assert may_see(actor(role), OTHERS)


def test_the_admin_sees_metadata_but_never_plays():
    """Running the system is no reason to listen to calls."""
    admin = actor(Role.ADMIN)
    assert may_see(admin, OTHERS)
    assert not may_play(admin, OTHERS)
    assert not may_export(admin, OTHERS)


@pytest.mark.parametrize("role", list(Role))
def test_a_restricted_call_is_played_and_exported_by_the_dpo_only(role):
    """Restriction (Art. 18) overrides every other right, the agent's own call included."""
    someone = actor(role, "agent100")
    assert may_play(someone, RESTRICTED_OWN) is (role is Role.DPO)
    assert may_export(someone, RESTRICTED_OWN) is (role is Role.DPO)


def test_lifting_a_restriction_gives_the_call_back():
    """The same call, no longer restricted, is the agent's own again."""
    agent = actor(Role.AGENT, "agent100")
    assert may_play(agent, dataclasses.replace(RESTRICTED_OWN, restricted=False))


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.AGENT, False),
        (Role.SUPERVISOR, False),
        (Role.ADMIN, False),
        (Role.DIRECTOR, False),
        (Role.DPO, True),
    ],
)
def test_only_the_dpo_writes_data_subject_exports(role, allowed):
    """Exports answer data subjects' requests, the dpo's work; the director approves releases
    and takes no copy himself (seed 000 §7.2)."""
    assert may_export_any(actor(role, "agent100")) is allowed
    assert may_export(actor(role, "agent100"), OWN) is allowed


@pytest.mark.parametrize("role", list(Role))
def test_only_the_dpo_handles_requests(role):
    """Erasure, rectification, restriction and requests are the data-protection officer's."""
    assert may_handle_requests(actor(role)) is (role is Role.DPO)


def test_actors_are_values():
    """Two actors with the same fields are equal and cannot be changed."""
    one = Actor.of("anna", Role.DPO)
    assert one == Actor(name="anna", roles=frozenset({Role.DPO}), extension=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.roles = frozenset({Role.ADMIN})  # type: ignore[misc]


def test_several_roles_allow_what_any_of_them_allows():
    """An admin who is also an agent plays their own calls, and still no one else's."""
    both = Actor.of("piotr", Role.ADMIN, Role.AGENT, extension="agent100")
    assert may_play(both, OWN)
    assert not may_play(both, OTHERS)
    assert may_see(both, OTHERS)
    assert may_administer(both)
    assert both.described == "piotr (admin, agent)"


def test_an_extension_makes_no_one_an_agent():
    """Owning calls needs the agent role; an admin's extension alone plays nothing."""
    admin = Actor.of("ola", Role.ADMIN, extension="agent100")
    assert not may_play(admin, OWN)


def test_no_role_allows_nothing():
    """A user whose roles were all taken away can do nothing at all."""
    nobody = Actor.of("gone")
    rules = [may_see, may_play, may_export, may_ask_release]
    assert not any(rule(nobody, OWN) for rule in rules)
    assert not any(
        rule(nobody)
        for rule in [
            may_search_all,
            may_hold,
            may_decide_release,
            may_read_audit,
            may_administer,
            may_see_calls,
            may_mark_for_training,
            may_play_training,
        ]
    )
    assert nobody.described == "gone (no role)"


DUTIES = {
    Role.AGENT: set(),
    Role.SUPERVISOR: {"holds", "asks release", "searches all"},
    Role.DIRECTOR: {"decides release", "searches all"},
    Role.DPO: {"asks release", "audits", "searches all"},
    Role.ADMIN: {"administers", "searches all"},
    Role.TRAINER: set(),
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_s_own_duties(role):
    """Holds are the supervisor's, releases the director's, the audit trail the dpo's."""
    someone = actor(role, "agent100")
    checks = {
        "holds": may_hold(someone),
        "asks release": may_ask_release(someone, OTHERS),
        "decides release": may_decide_release(someone),
        "audits": may_read_audit(someone),
        "administers": may_administer(someone),
        "searches all": may_search_all(someone),
    }
    assert {duty for duty, allowed in checks.items() if allowed} == DUTIES[role]


def test_a_release_of_a_restricted_call_is_asked_by_the_dpo_only():
    """Whoever may not play a call may not send it out either."""
    assert not may_ask_release(actor(Role.SUPERVISOR), RESTRICTED_OWN)
    assert may_ask_release(actor(Role.DPO), RESTRICTED_OWN)


@pytest.mark.parametrize("role", list(Role))
def test_role_level_checks_come_before_any_call(role):
    """The web app refuses by role first: the admin never listens, only askers ask."""
    someone = actor(role, "agent100")
    assert may_play_any(someone) is (role not in {Role.ADMIN, Role.TRAINER})
    assert may_ask_any_release(someone) is (role in {Role.SUPERVISOR, Role.DPO})


@pytest.mark.parametrize("role", list(Role))
def test_a_trainer_plays_training_copies_and_sees_no_call(role):
    """Seed 003 §9: the supervisor marks calls; trainer and supervisor play the copies; the
    trainer sees, plays and searches no call at all."""
    someone = actor(role, "agent100")
    assert may_mark_for_training(someone) is (role is Role.SUPERVISOR)
    assert may_play_training(someone) is (role in {Role.TRAINER, Role.SUPERVISOR})
    assert may_see_calls(someone) is (role is not Role.TRAINER)
    if role is Role.TRAINER:
        assert not any(rule(someone, OWN) for rule in (may_see, may_play, may_export))
