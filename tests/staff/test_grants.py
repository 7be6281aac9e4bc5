"""Four eyes on privileged grants: nobody grants themselves anything, a second admin approves."""

from __future__ import annotations

import pytest

from callrec_ari.access import Actor, Role
from callrec_ari.errors import ForbiddenError, InputError
from callrec_ari.staff import accounts, grants
from callrec_ari.staff.grants import Kind, Outcome
from tests.staff.conftest import CLIENT, NOW, make_user, sign_in, stored, trail
from tests.support.passwords import CHEAP_PASSWORDS


async def administer(sessions, operation, **arguments):
    """Run one operation in its own committed transaction."""
    async with sessions() as session, session.begin():
        return await operation(session, now=NOW, **arguments)


async def roles(sessions, user_id):
    async with sessions() as session:
        return (await accounts.get_account(session, user_id)).roles


async def waiting(sessions):
    async with sessions() as session:
        return await grants.list_grants(session)


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.DPO, Role.SUPERVISOR])
async def test_an_admin_cannot_give_themselves_a_role(session_factory, role):
    """The pen test's attack: admin ada adds a role to herself; 403, nothing changes."""
    ada = await make_user(session_factory, "ada", Role.ADMIN)
    with pytest.raises(ForbiddenError, match=r"^ada may not change the roles of their own acc"):
        await administer(
            session_factory,
            accounts.set_roles,
            by=ada.actor,
            user_id=ada.id,
            roles=[Role.ADMIN, role],
        )
    assert await roles(session_factory, ada.id) == {Role.ADMIN}
    assert await waiting(session_factory) == []
    assert [a for _, a, _, _ in await trail(session_factory)] == ["user.create"]


async def test_an_admin_cannot_exempt_themselves_from_two_factor(session_factory):
    """The pen test's attack: ada exempts herself; refused, she still needs her code."""
    ada = await make_user(session_factory, "ada", Role.ADMIN)
    with pytest.raises(ForbiddenError, match="own account"):
        await administer(
            session_factory, accounts.set_totp_exempt, by=ada.actor, user_id=ada.id, exempt=True
        )
    assert (await stored(session_factory, "ada")).totp_exempt_by is None
    assert (await sign_in(session_factory, "ada")).step is accounts.SignInStep.NEEDS_ENROLMENT
    assert await waiting(session_factory) == []


async def test_a_granted_dpo_waits_for_a_second_admin(session_factory):
    """A asks dpo for B: B is no dpo until C approves; A cannot approve, B cannot either."""
    ada = await make_user(session_factory, "ada", Role.ADMIN)
    ben = await make_user(session_factory, "ben", Role.ADMIN)
    cleo = await make_user(session_factory, "cleo", Role.ADMIN)
    changed = await administer(
        session_factory,
        accounts.set_roles,
        by=ada.actor,
        user_id=ben.id,
        roles=[Role.ADMIN, Role.DPO],
        client=CLIENT,
    )
    assert changed.roles == {Role.ADMIN}
    [grant] = await waiting(session_factory)
    assert (grant.username, grant.role, grant.requested_by) == ("ben", Role.DPO, "ada")
    for who, why in ((ada, "asked for grant"), (ben, "own account")):
        with pytest.raises(ForbiddenError, match=why):
            await administer(
                session_factory, grants.decide, by=who.actor, grant_id=grant.id, approve=True
            )
    assert await roles(session_factory, ben.id) == {Role.ADMIN}

    approved = await administer(
        session_factory,
        grants.decide,
        by=cleo.actor,
        grant_id=grant.id,
        approve=True,
        client=CLIENT,
    )
    assert (approved.outcome, approved.decided_by) == (Outcome.APPROVED, "cleo")
    assert await roles(session_factory, ben.id) == {Role.ADMIN, Role.DPO}
    assert await waiting(session_factory) == []
    entries = [e for e in await trail(session_factory) if e[1].startswith("grant.")]
    assert [(who, action) for who, action, _, _ in entries] == [
        ("ada", "grant.request"),
        ("cleo", "grant.approve"),
    ]
    assert entries[1][3]["requested_by"] == "ada"
    assert entries[1][2] == "user:ben"
    with pytest.raises(InputError, match=rf"^Grant {grant.id} was approved already\.$"):
        await administer(
            session_factory, grants.decide, by=cleo.actor, grant_id=grant.id, approve=False
        )


async def test_refused_and_withdrawn_grants_never_take_effect(session_factory):
    """Refused by another admin, or withdrawn by the one who asked: each audited, no role."""
    ada = await make_user(session_factory, "ada", Role.ADMIN)
    cleo = await make_user(session_factory, "cleo", Role.ADMIN)
    eva = await make_user(session_factory, "eva", Role.AGENT)
    await administer(
        session_factory,
        accounts.set_roles,
        by=ada.actor,
        user_id=eva.id,
        roles=[Role.DIRECTOR, Role.ADMIN],
    )
    admin_grant, director_grant = await waiting(session_factory)
    refused = await administer(
        session_factory, grants.decide, by=cleo.actor, grant_id=admin_grant.id, approve=False
    )
    withdrawn = await administer(
        session_factory, grants.decide, by=ada.actor, grant_id=director_grant.id, approve=False
    )
    assert (refused.outcome, withdrawn.outcome) == (Outcome.REFUSED, Outcome.WITHDRAWN)
    assert await roles(session_factory, eva.id) == frozenset()  # agent was taken at once
    actions = [(who, a) for who, a, _, _ in await trail(session_factory) if "grant." in a]
    assert actions[-2:] == [("cleo", "grant.refuse"), ("ada", "grant.withdraw")]


async def test_lesser_roles_and_removals_take_effect_at_once(session_factory):
    """Agent and supervisor, and taking dpo away, need no second admin."""
    ada = await make_user(session_factory, "ada", Role.ADMIN)
    dora = await make_user(session_factory, "dora", Role.DPO)
    changed = await administer(
        session_factory,
        accounts.set_roles,
        by=ada.actor,
        user_id=dora.id,
        roles=[Role.AGENT, Role.SUPERVISOR],
    )
    assert changed.roles == {Role.AGENT, Role.SUPERVISOR}
    assert await waiting(session_factory) == []


async def test_a_new_account_gets_privileged_roles_only_after_approval(session_factory):
    """Created by ada as director and supervisor with no code: supervisor now, rest asked."""
    ada = await make_user(session_factory, "ada", Role.ADMIN)
    async with session_factory() as session, session.begin():
        made = await accounts.create_user(
            session,
            by=ada.username,
            four_eyes=ada.actor,
            username="dirk",
            display_name="Dirk",
            password="a long enough password",
            passwords=CHEAP_PASSWORDS,
            roles=[Role.DIRECTOR, Role.SUPERVISOR],
            totp_exempt=True,
            now=NOW,
        )
    assert (made.roles, made.totp_exempt) == ({Role.SUPERVISOR}, False)
    asked = {(grant.kind, grant.role) for grant in await waiting(session_factory)}
    assert asked == {(Kind.ROLE, Role.DIRECTOR), (Kind.TOTP_EXEMPT, None)}


async def test_a_cli_operator_is_the_same_person_as_their_account(session_factory):
    """cli:ada may not grant to the account ada, nor approve what ada asked for."""
    ada = await make_user(session_factory, "ada", Role.ADMIN)
    eva = await make_user(session_factory, "eva", Role.AGENT)
    cli_ada = Actor.of("cli:ada", Role.ADMIN)
    with pytest.raises(ForbiddenError, match="own account"):
        await administer(
            session_factory, accounts.set_roles, by=cli_ada, user_id=ada.id, roles=[Role.DPO]
        )
    await administer(
        session_factory, accounts.set_roles, by=ada.actor, user_id=eva.id, roles=[Role.DPO]
    )
    [grant] = await waiting(session_factory)
    with pytest.raises(ForbiddenError, match="may not approve it"):
        await administer(
            session_factory, grants.decide, by=cli_ada, grant_id=grant.id, approve=True
        )


async def test_only_admins_decide_grants(session_factory):
    """A director cannot approve a grant, even one not their own."""
    ada = await make_user(session_factory, "ada", Role.ADMIN)
    eva = await make_user(session_factory, "eva", Role.AGENT)
    await administer(
        session_factory, accounts.set_roles, by=ada.actor, user_id=eva.id, roles=[Role.DPO]
    )
    [grant] = await waiting(session_factory)
    with pytest.raises(ForbiddenError, match=r"may not decide grants\.$"):
        await administer(
            session_factory,
            grants.decide,
            by=Actor.of("dirk", Role.DIRECTOR),
            grant_id=grant.id,
            approve=True,
        )


def test_split_keeps_held_privileged_roles_and_asks_for_new_ones():
    """Held dpo stays; new director is asked; agent is given; removals need nothing."""
    now, asked = grants.split(
        frozenset({Role.DPO, Role.ADMIN}), frozenset({Role.DPO, Role.DIRECTOR, Role.AGENT})
    )
    assert (now, asked) == ({Role.DPO, Role.AGENT}, {Role.DIRECTOR})
