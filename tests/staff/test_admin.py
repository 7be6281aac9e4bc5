"""Administering accounts: only admins may, every change is audited, an admin always remains."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import event

from callrec_ari.access import Actor, Role
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError
from callrec_ari.staff import accounts, grants
from callrec_ari.staff.accounts import SignIn, SignInError, SignInStep
from tests.staff.conftest import (
    CLI_ADMIN,
    CLIENT,
    NOW,
    PASSWORD,
    enrol,
    make_user,
    raw_trail,
    sign_in,
    stored,
    trail,
)
from tests.support.passwords import CHEAP_PASSWORDS

NEW_PASSWORD = "a much better passphrase"
BOSS = Actor.of("boss", Role.ADMIN)


async def administer(sessions, operation, **arguments):
    """Run one admin operation in its own committed transaction."""
    async with sessions() as session, session.begin():
        return await operation(session, now=NOW, **arguments)


def step_of(result):
    assert isinstance(result, SignIn), result
    return result.step


@pytest.mark.parametrize(
    ("operation", "arguments"),
    [
        (accounts.set_roles, {"roles": [Role.ADMIN]}),
        (accounts.set_extension, {"extension": "200"}),
        (accounts.set_totp_exempt, {"exempt": True}),
        (accounts.reset_totp, {}),
        (accounts.set_password, {"password": NEW_PASSWORD, "passwords": CHEAP_PASSWORDS}),
        (accounts.set_disabled, {"disabled": True}),
        (accounts.unlock, {}),
    ],
)
async def test_only_admins_may_change_accounts(session_factory, operation, arguments):
    """A supervisor-director is refused by name; nothing changes, nothing is audited."""
    made = await make_user(session_factory, "anna")
    before = await stored(session_factory, "anna")
    chief = Actor.of("chief", Role.SUPERVISOR, Role.DIRECTOR)
    with pytest.raises(ForbiddenError, match=r"^chief \(director, supervisor\) may not manage"):
        await administer(session_factory, operation, by=chief, user_id=made.id, **arguments)
    after = await stored(session_factory, "anna")
    assert (after.password_hash, after.extension) == (before.password_hash, before.extension)
    assert [action for _, action, _, _ in await trail(session_factory)] == ["user.create"]


async def test_changing_an_unknown_user_is_not_found(session_factory):
    """A user id that does not exist is named."""
    with pytest.raises(NotFoundError, match=r"^User 99 does not exist\.$"):
        await administer(session_factory, accounts.unlock, by=BOSS, user_id=99)


async def test_roles_are_replaced_and_audited_before_and_after(session_factory):
    """The new set replaces the old at once for lesser roles; dpo waits for a second admin."""
    made = await make_user(session_factory, "anna", Role.AGENT)
    changed = await administer(
        session_factory,
        accounts.set_roles,
        by=BOSS,
        user_id=made.id,
        roles=[Role.SUPERVISOR, Role.DPO],
        client=CLIENT,
    )
    assert changed.roles == frozenset({Role.SUPERVISOR})
    async with session_factory() as session:
        assert (await accounts.get_account(session, made.id)).roles == changed.roles
        [waiting] = await grants.list_grants(session)
    assert (waiting.username, waiting.role, waiting.requested_by) == ("anna", Role.DPO, "boss")
    assert (await trail(session_factory))[-2:] == [
        (
            "boss",
            "user.roles",
            "user:anna",
            {"before": ["agent"], "after": ["supervisor"], "asked": ["dpo"]},
        ),
        (
            "boss",
            "grant.request",
            "user:anna",
            {"grant": waiting.id, "kind": "role", "role": "dpo", "grantee": "anna"},
        ),
    ]
    with pytest.raises(InputError, match="at least one role"):
        await administer(session_factory, accounts.set_roles, by=BOSS, user_id=made.id, roles=[])


async def test_the_last_active_admin_keeps_the_role_and_stays_enabled(session_factory):
    """Neither demoted nor disabled while no other enabled admin exists."""
    only = await make_user(session_factory, "adam", Role.ADMIN)
    other = await make_user(session_factory, "bea", Role.ADMIN, Role.DPO)
    await administer(
        session_factory, accounts.set_disabled, by=BOSS, user_id=other.id, disabled=True
    )
    with pytest.raises(InputError, match=r"^User adam is the last active admin: make another"):
        await administer(
            session_factory, accounts.set_roles, by=BOSS, user_id=only.id, roles=[Role.AGENT]
        )
    with pytest.raises(InputError, match="last active admin"):
        await administer(
            session_factory, accounts.set_disabled, by=BOSS, user_id=only.id, disabled=True
        )
    async with session_factory() as session:
        kept = await accounts.get_account(session, only.id)
    assert (kept.roles, kept.disabled) == (frozenset({Role.ADMIN}), False)
    # With bea enabled again, adam may step down.
    await administer(
        session_factory, accounts.set_disabled, by=BOSS, user_id=other.id, disabled=False
    )
    demoted = await administer(
        session_factory, accounts.set_roles, by=BOSS, user_id=only.id, roles=[Role.AGENT]
    )
    assert demoted.roles == frozenset({Role.AGENT})


async def test_two_admins_demoting_each_other_at_once_leave_one(session_factory, engine):
    """The second change waits for the first and then sees that it would leave no admin."""
    adam = await make_user(session_factory, "adam", Role.ADMIN)
    bea = await make_user(session_factory, "bea", Role.ADMIN)
    head_updates: list[str] = []
    second_waits = threading.Event()

    def seen(_conn, _cursor, statement, *_args):
        # The audit head's UPDATE is each change's first statement and takes the lock: the
        # second one sent means the second transaction now waits for the first.
        if statement.lstrip().upper().startswith("UPDATE AUDIT_HEAD SET SEQ"):
            head_updates.append(statement)
            if len(head_updates) == 2:
                second_waits.set()

    event.listen(engine.sync_engine, "before_cursor_execute", seen)

    async def demote(user_id: int) -> None:
        async with session_factory() as session, session.begin():
            await accounts.set_roles(
                session, by=CLI_ADMIN, user_id=user_id, roles=[Role.AGENT], now=NOW
            )

    async with session_factory() as first, first.begin():
        await accounts.set_roles(first, by=CLI_ADMIN, user_id=adam.id, roles=[Role.AGENT], now=NOW)
        second = asyncio.create_task(demote(bea.id))
        assert await asyncio.to_thread(second_waits.wait, 10)
    with pytest.raises(InputError, match="User bea is the last active admin"):
        await second
    async with session_factory() as session:
        admins = [
            a.username for a in await accounts.list_accounts(session) if Role.ADMIN in a.roles
        ]
    assert admins == ["bea"]


async def test_a_disabled_user_cannot_sign_in_until_enabled(session_factory):
    """Disabling and enabling are both audited; the right password works again after."""
    made = await make_user(session_factory, "anna", totp_exempt=True)
    disabled = await administer(
        session_factory, accounts.set_disabled, by=BOSS, user_id=made.id, disabled=True
    )
    assert disabled.disabled
    refused = await sign_in(session_factory, "anna")
    assert isinstance(refused, SignInError)
    assert str(refused) == "Wrong username or password."
    await administer(
        session_factory, accounts.set_disabled, by=BOSS, user_id=made.id, disabled=False
    )
    assert step_of(await sign_in(session_factory, "anna")) is SignInStep.DONE
    actions = [(actor, action) for actor, action, _, _ in await trail(session_factory)]
    assert ("boss", "user.disable") in actions
    assert ("boss", "user.enable") in actions


async def test_the_extension_is_set_and_cleared(session_factory):
    """An agent's extension decides whose calls they see; changes are audited."""
    made = await make_user(session_factory, "anna", extension="100")
    changed = await administer(
        session_factory, accounts.set_extension, by=BOSS, user_id=made.id, extension=" 200 "
    )
    assert changed.actor.extension == "200"
    cleared = await administer(
        session_factory, accounts.set_extension, by=BOSS, user_id=made.id, extension=""
    )
    assert cleared.extension is None
    details = [d for _, action, _, d in await trail(session_factory) if action == "user.extension"]
    assert details == [{"before": "100", "after": "200"}, {"before": "200", "after": None}]


async def test_an_exemption_names_the_admin_and_skips_the_code(session_factory):
    """Exempted once a second admin approved: password alone; ended at once: enrolment next."""
    made = await make_user(session_factory, "anna")
    await administer(
        session_factory, accounts.set_totp_exempt, by=BOSS, user_id=made.id, exempt=True
    )
    assert (await stored(session_factory, "anna")).totp_exempt_by is None
    assert step_of(await sign_in(session_factory, "anna")) is SignInStep.NEEDS_ENROLMENT
    async with session_factory() as session:
        [waiting] = await grants.list_grants(session)
    await administer(
        session_factory, grants.decide, by=CLI_ADMIN, grant_id=waiting.id, approve=True
    )
    assert (await stored(session_factory, "anna")).totp_exempt_by == "boss"
    assert step_of(await sign_in(session_factory, "anna")) is SignInStep.DONE
    ended = await administer(
        session_factory, accounts.set_totp_exempt, by=BOSS, user_id=made.id, exempt=False
    )
    assert not ended.totp_exempt
    assert step_of(await sign_in(session_factory, "anna")) is SignInStep.NEEDS_ENROLMENT
    actions = [
        (who, a) for who, a, _, _ in await trail(session_factory) if "totp" in a or "grant" in a
    ]
    assert actions == [
        ("boss", "grant.request"),
        ("cli:root", "grant.approve"),
        ("boss", "user.totp_exempt"),
    ]


async def test_a_reset_authenticator_is_enrolled_again(session_factory):
    """A lost phone: after the reset the old app's codes are useless and enrolment is next."""
    made = await make_user(session_factory, "anna")
    old_secret = await enrol(session_factory, made.id)
    reset = await administer(session_factory, accounts.reset_totp, by=BOSS, user_id=made.id)
    assert not reset.totp_enrolled
    assert step_of(await sign_in(session_factory, "anna")) is SignInStep.NEEDS_ENROLMENT
    async with session_factory() as session, session.begin():
        new_secret, _ = await accounts.start_enrolment(session, user_id=made.id)
    assert new_secret != old_secret
    later = NOW + timedelta(minutes=5)
    async with session_factory() as session, session.begin():
        with pytest.raises(SignInError, match="Wrong code"):
            await accounts.confirm_enrolment(
                session,
                user_id=made.id,
                code=pyotp.TOTP(old_secret).at(later),
                now=later,
                client=None,
            )
    assert ("boss", "user.totp_reset") in [(a, b) for a, b, _, _ in await trail(session_factory)]


async def test_a_new_password_replaces_the_old_and_is_never_audited(session_factory):
    """The old password stops working; the policy applies; the trail holds no password."""
    made = await make_user(session_factory, "anna", totp_exempt=True)
    with pytest.raises(InputError, match="at least 12 characters"):
        await administer(
            session_factory,
            accounts.set_password,
            by=BOSS,
            user_id=made.id,
            password="short",
            passwords=CHEAP_PASSWORDS,
        )
    await administer(
        session_factory,
        accounts.set_password,
        by=BOSS,
        user_id=made.id,
        password=NEW_PASSWORD,
        passwords=CHEAP_PASSWORDS,
    )
    assert isinstance(await sign_in(session_factory, "anna", PASSWORD), SignInError)
    assert step_of(await sign_in(session_factory, "anna", NEW_PASSWORD)) is SignInStep.DONE
    assert (await trail(session_factory))[1] == ("boss", "user.password", "user:anna", {})
    text = await raw_trail(session_factory)
    assert NEW_PASSWORD not in text
    assert PASSWORD not in text


async def test_unlocking_lets_a_locked_user_in_at_once(session_factory):
    """No need to wait out the lock; the failures are forgotten, and the trail says how many."""
    made = await make_user(session_factory, "anna", totp_exempt=True)
    for _ in range(3):
        await sign_in(session_factory, "anna", "guess")
    assert "locked until" in str(await sign_in(session_factory, "anna"))
    unlocked = await administer(session_factory, accounts.unlock, by=BOSS, user_id=made.id)
    assert unlocked.locked_until is None
    assert step_of(await sign_in(session_factory, "anna")) is SignInStep.DONE
    unlocks = [
        (a, d) for a, action, _, d in await trail(session_factory) if action == "user.unlock"
    ]
    assert unlocks == [("boss", {"failed_logins": 3})]
