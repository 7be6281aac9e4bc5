"""Signing in: the password, then a code or enrolment; failures counted, locks, replays."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import update

from callrec_ari.access import Role
from callrec_ari.db.models import User
from callrec_ari.errors import InputError
from callrec_ari.staff import accounts
from callrec_ari.staff.accounts import Account, SignIn, SignInError, SignInStep
from callrec_ari.staff.passwords import Passwords
from tests.staff.conftest import (
    CLIENT,
    NOW,
    PASSWORD,
    enrol,
    enter_code,
    make_user,
    raw_trail,
    sign_in,
    stored,
    trail,
)
from tests.support.passwords import CHEAP_PASSWORDS

WRONG = "Wrong username or password."


def step(result: SignIn | SignInError) -> SignInStep:
    """The step after a correct password (failing if it was refused)."""
    assert isinstance(result, SignIn), result
    return result.step


def message(result: object) -> str:
    """What the person is told after a refusal (failing if they got in)."""
    assert isinstance(result, SignInError), result
    return str(result)


async def test_an_exempt_user_is_signed_in_by_the_password_alone(session_factory):
    """Step DONE; the sign-in is recorded on the account and in the trail."""
    await make_user(session_factory, "anna", totp_exempt=True)
    result = await sign_in(session_factory, "Anna")
    assert step(result) is SignInStep.DONE
    assert isinstance(result, SignIn)
    assert result.account.last_login_at == NOW
    assert (await stored(session_factory, "anna")).last_login_at == NOW
    actor, action, target, detail = (await trail(session_factory))[-1]
    assert (actor, action, target, detail) == (
        "anna",
        "login",
        "user:anna",
        {"second_factor": "exempt"},
    )


async def test_first_sign_in_enrols_the_authenticator_app(session_factory):
    """Not enrolled: enrolment is next; a first code confirms it and signs the person in."""
    made = await make_user(session_factory, "anna")
    assert step(await sign_in(session_factory, "anna")) is SignInStep.NEEDS_ENROLMENT
    async with session_factory() as session, session.begin():
        secret, uri = await accounts.start_enrolment(session, user_id=made.id)
    assert uri == pyotp.TOTP(secret).provisioning_uri(name="anna", issuer_name="callrec")
    async with session_factory() as session, session.begin():
        with pytest.raises(SignInError, match=r"^Wrong code\.$"):
            await accounts.confirm_enrolment(
                session, user_id=made.id, code="000000", now=NOW, client=CLIENT
            )
    code = pyotp.TOTP(secret).at(NOW)
    async with session_factory() as session, session.begin():
        account = await accounts.confirm_enrolment(
            session, user_id=made.id, code=code, now=NOW, client=CLIENT
        )
    assert account.totp_enrolled
    assert account.last_login_at == NOW
    assert [a for _, a, _, _ in await trail(session_factory)][-2:] == ["totp.enrol", "login"]
    assert secret not in await raw_trail(session_factory)
    # The confirming code is spent, and enrolling twice is refused.
    assert message(await enter_code(session_factory, made.id, code)) == "Wrong code."
    async with session_factory() as session, session.begin():
        with pytest.raises(InputError, match="has set up two-factor sign-in already"):
            await accounts.start_enrolment(session, user_id=made.id)


async def test_an_enrolled_user_needs_a_code_after_the_password(session_factory):
    """Step NEEDS_CODE, then the current code signs in and is remembered as used."""
    made = await make_user(session_factory, "anna")
    secret = await enrol(session_factory, made.id)
    later = NOW + timedelta(hours=8)
    assert step(await sign_in(session_factory, "anna", now=later)) is SignInStep.NEEDS_CODE
    totp = pyotp.TOTP(secret)
    account = await enter_code(session_factory, made.id, totp.at(later), now=later)
    assert isinstance(account, Account)
    assert account.last_login_at == later
    assert (await stored(session_factory, "anna")).totp_last_step == totp.timecode(later)
    assert (await trail(session_factory))[-1][1:] == (
        "login",
        "user:anna",
        {"second_factor": "totp"},
    )


async def test_a_code_is_refused_the_second_time(session_factory):
    """Seen over someone's shoulder and typed again within the minute: refused and counted."""
    made = await make_user(session_factory, "anna")
    secret = await enrol(session_factory, made.id)
    later = NOW + timedelta(hours=1)
    code = pyotp.TOTP(secret).at(later)
    assert isinstance(await enter_code(session_factory, made.id, code, now=later), Account)
    replay = await enter_code(session_factory, made.id, code, now=later + timedelta(seconds=20))
    assert message(replay) == "Wrong code."
    assert (await stored(session_factory, "anna")).failed_logins == 1
    assert (await trail(session_factory))[-1][1:] == (
        "login.failed",
        "user:anna",
        {"reason": "code", "failed_logins": 1},
    )


async def test_an_exempt_user_who_enrolled_still_needs_no_code(session_factory):
    """The exemption wins over an enrolment made earlier."""
    made = await make_user(session_factory, "anna", totp_exempt=True)
    await enrol(session_factory, made.id)
    assert step(await sign_in(session_factory, "anna")) is SignInStep.DONE


async def test_unknown_user_wrong_password_and_disabled_look_the_same(session_factory, monkeypatch):
    """Same sentence, and an argon2 check every time, so timing tells nothing either."""
    await make_user(session_factory, "anna", totp_exempt=True)
    await make_user(session_factory, "bob", Role.ADMIN, totp_exempt=True)
    await make_user(session_factory, "ewa", totp_exempt=True)
    async with session_factory() as session, session.begin():
        ewa = await accounts.find_account(session, "ewa")
        await session.execute(update(User).where(User.id == ewa.id).values(disabled_at=NOW))
    checks = []

    verify = Passwords.verify

    def counted(self: Passwords, stored_hash: str, password: str) -> bool:
        checks.append(stored_hash)
        return verify(self, stored_hash, password)

    monkeypatch.setattr(Passwords, "verify", counted)
    unknown = await sign_in(session_factory, "nobody")
    wrong = await sign_in(session_factory, "anna", "not the password")
    disabled = await sign_in(session_factory, "ewa")
    assert [message(unknown), message(wrong), message(disabled)] == [WRONG] * 3
    assert len(checks) == 3
    assert all(h.startswith("$argon2id$") for h in checks)
    entries = [(a, act, d) for a, act, _, d in await trail(session_factory)][-2:]
    assert entries == [
        ("anna", "login.failed", {"reason": "password", "failed_logins": 1}),
        # Counted like any other failure: a disabled account locks as others do.
        ("ewa", "login.failed", {"reason": "disabled", "failed_logins": 1}),
    ]
    text = await raw_trail(session_factory)
    assert "nobody" not in text
    assert "not the password" not in text


async def test_failures_are_committed_by_the_web_apps_transaction(session_factory):
    """The error leaves the service after the count was flushed; the caller's block commits it."""
    await make_user(session_factory, "anna")
    assert message(await sign_in(session_factory, "anna", "wrong password 1")) == WRONG
    assert message(await sign_in(session_factory, "anna", "wrong password 2")) == WRONG
    row = await stored(session_factory, "anna")
    assert (row.failed_logins, row.locked_until) == (2, None)


async def test_the_nth_failure_locks_the_account_until_the_minutes_pass(session_factory):
    """Three failures lock for 15 minutes, even against the right password; then it opens."""
    await make_user(session_factory, "anna", totp_exempt=True)
    for minute in range(3):
        when = NOW + timedelta(minutes=minute)
        assert message(await sign_in(session_factory, "anna", "guess", now=when)) == WRONG
    until = NOW + timedelta(minutes=2 + 15)
    assert (await stored(session_factory, "anna")).locked_until == until
    assert (await trail(session_factory))[-1][3] == {
        "reason": "password",
        "failed_logins": 3,
        "locked_until": "2026-12-01T12:17:10+00:00",
    }
    locked = await sign_in(session_factory, "anna", now=until - timedelta(seconds=1))
    assert message(locked) == "This account is locked until 2026-12-01 12:17:10 UTC."
    assert (await trail(session_factory))[-1][3] == {"reason": "locked"}
    assert step(await sign_in(session_factory, "anna", now=until)) is SignInStep.DONE
    row = await stored(session_factory, "anna")
    assert (row.failed_logins, row.locked_until) == (0, None)


async def test_after_a_lock_is_served_failures_count_from_zero(session_factory):
    """One wrong password after the lock ends does not lock again at once."""
    await make_user(session_factory, "anna")
    for _ in range(3):
        await sign_in(session_factory, "anna", "guess")
    after = NOW + timedelta(minutes=16)
    assert message(await sign_in(session_factory, "anna", "guess", now=after)) == WRONG
    row = await stored(session_factory, "anna")
    assert (row.failed_logins, row.locked_until) == (1, None)


async def test_a_right_password_does_not_reset_the_count_before_the_code(session_factory):
    """Whoever knows the password cannot earn fresh code guesses by typing it again."""
    made = await make_user(session_factory, "anna")
    await enrol(session_factory, made.id)
    later = NOW + timedelta(hours=1)
    for _ in range(2):
        assert step(await sign_in(session_factory, "anna", now=later)) is SignInStep.NEEDS_CODE
        assert (
            message(await enter_code(session_factory, made.id, "000000", now=later))
            == "Wrong code."
        )
    assert step(await sign_in(session_factory, "anna", now=later)) is SignInStep.NEEDS_CODE
    await enter_code(session_factory, made.id, "111111", now=later)
    locked = await enter_code(session_factory, made.id, "222222", now=later)
    assert "locked until 2026-12-01 13:15:10 UTC" in message(locked)


async def test_a_code_for_a_disabled_account_is_refused(session_factory):
    """Disabled between the two steps: no way in."""
    made = await make_user(session_factory, "anna")
    secret = await enrol(session_factory, made.id)
    async with session_factory() as session, session.begin():
        await session.execute(update(User).where(User.id == made.id).values(disabled_at=NOW))
    later = NOW + timedelta(hours=1)
    refused = await enter_code(session_factory, made.id, pyotp.TOTP(secret).at(later), now=later)
    assert message(refused) == WRONG


async def test_an_old_hash_is_replaced_at_sign_in(session_factory):
    """A hash made with weaker parameters is rehashed with today's once the password matched."""
    made = await make_user(session_factory, "anna", totp_exempt=True)
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, salt_len=8).hash(PASSWORD)
    async with session_factory() as session, session.begin():
        await session.execute(update(User).where(User.id == made.id).values(password_hash=weak))
    assert step(await sign_in(session_factory, "anna")) is SignInStep.DONE
    new_hash = (await stored(session_factory, "anna")).password_hash
    assert new_hash != weak
    assert not CHEAP_PASSWORDS.needs_rehash(new_hash)
    assert CHEAP_PASSWORDS.verify(new_hash, PASSWORD)


async def test_guesses_sent_in_parallel_are_all_counted(session_factory):
    """Attempts racing each other each count: parallel guessing gains no extra tries."""
    await make_user(session_factory, "anna", totp_exempt=True)
    results = await asyncio.gather(
        *(sign_in(session_factory, "anna", f"guess number {n}") for n in range(3))
    )
    assert [message(result) for result in results] == [WRONG] * 3
    row = await stored(session_factory, "anna")
    assert row.failed_logins == 3
    assert row.locked_until is not None
