"""Signing in: a password, then a code or enrolment, with the lock-out decided atomically.

Every attempt on an account is first *claimed*: one conditional ``UPDATE ... RETURNING``
counts it as a failure, and locks the account when the count reaches the limit, but only
while the account is not locked. An attempt that finds the account locked is refused
before its password or code is looked at. So guesses sent in parallel evaluate at most
``lockout.after`` wrong passwords, and none once the lock is set. A right password gives
its claim back (the count goes down by one, and a lock set by that very claim is lifted).

The web app runs the password step in three parts so that no transaction (SQLite's single
write lock above all) stays open while argon2 works: ``claim_password`` in one
transaction, ``Passwords.check`` outside any, ``settle_password`` in a second one.
``check_password`` runs the three in the caller's transaction, for tests and scripts.

An unknown username behaves like a known one: the same argon2 work (against a hash of
nothing anybody knows), the same answers, and the same "locked until" after the same number
of failures, kept in memory by ``UnknownNames``.

A failed step raises ``SignInError`` only after its bookkeeping was flushed: the caller
catches it inside ``async with session.begin():`` so that the count and the audit entry
are committed, and shows it afterwards.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import ColumnElement, and_, case, literal, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.audit import trail
from callrec_ari.db.base import UtcDateTime
from callrec_ari.db.models import User
from callrec_ari.errors import InputError, NotFoundError
from callrec_ari.staff.lockout import Lockout, UnknownNames
from callrec_ari.staff.passwords import Passwords
from callrec_ari.staff.store import Account, account_of, roles_of, target_of, user_row
from callrec_ari.staff.totp import matching_step, new_secret, provisioning_uri

__all__ = [
    "WRONG_CODE",
    "WRONG_CREDENTIALS",
    "PasswordAttempt",
    "SignIn",
    "SignInError",
    "SignInStep",
    "check_code",
    "check_password",
    "claim_password",
    "confirm_enrolment",
    "locked_message",
    "settle_password",
    "start_enrolment",
]

log = structlog.get_logger(__name__)

WRONG_CREDENTIALS = "Wrong username or password."
WRONG_CODE = "Wrong code."


class SignInError(InputError):
    """Signing in failed; the message is shown to the person as is."""

    error_id = "sign_in_failed"


class SignInStep(enum.StrEnum):
    """What comes after a correct password."""

    DONE = "done"  # exempt from two-factor sign-in: signed in
    NEEDS_CODE = "needs_code"  # enrolled: the code from the app next
    NEEDS_ENROLMENT = "needs_enrolment"  # not yet enrolled: set up the app first


@dataclass(frozen=True, kw_only=True)
class SignIn:
    """A correct password and what the person must do next."""

    account: Account
    step: SignInStep


@dataclass(frozen=True, kw_only=True)
class PasswordAttempt:
    """A claimed password attempt, to be checked against ``password_hash`` and settled."""

    username: str
    user_id: int | None  # None: no account has this name
    password_hash: str
    failed_logins: int  # this attempt included
    locked_until: datetime | None  # set when this attempt's claim locked the account
    disabled: bool


def locked_message(until: datetime) -> str:
    """The refusal of a locked account (known or not: the same sentence)."""
    return f"This account is locked until {until.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC."


# -- the password ---------------------------------------------------------------------------


async def claim_password(
    session: AsyncSession,
    *,
    username: str,
    passwords: Passwords,
    now: datetime,
    lockout: Lockout,
    unknown: UnknownNames,
    client: str | None,
) -> PasswordAttempt:
    """Count this attempt before its password is checked; ``SignInError`` if locked."""
    name = username.strip().lower()
    claimed = (
        (await session.execute(_claim(User.username == name, now, lockout))).one_or_none()
        if name
        else None
    )
    if claimed is not None:
        return PasswordAttempt(
            username=name,
            user_id=claimed.id,
            password_hash=claimed.password_hash,
            failed_logins=claimed.failed_logins,
            locked_until=claimed.locked_until if claimed.failed_logins >= lockout.after else None,
            disabled=claimed.disabled_at is not None,
        )
    user = await session.scalar(select(User).where(User.username == name)) if name else None
    if user is None:
        until = unknown.locked_until(name, now)
        if until is not None:
            log.info("staff.sign_in_refused", reason="unknown user", client=client)
            raise SignInError(locked_message(until))
        return PasswordAttempt(
            username=name,
            user_id=None,
            password_hash=await passwords.unknown_hash(),
            failed_logins=0,
            locked_until=None,
            disabled=False,
        )
    raise await _refuse_locked(session, user, now, client)


async def settle_password(
    session: AsyncSession,
    attempt: PasswordAttempt,
    *,
    matches: bool,
    password: str,
    passwords: Passwords,
    now: datetime,
    lockout: Lockout,
    unknown: UnknownNames,
    client: str | None,
) -> SignIn:
    """Record the outcome of a checked attempt; ``SignInError`` (flushed) if refused.

    An unknown user, a wrong password and a disabled account get the same answer.
    """
    if attempt.user_id is None:
        unknown.failed(attempt.username, now, lockout)
        # Not audited: a mistyped name is often the password, and the trail is kept forever.
        log.info("staff.sign_in_refused", reason="unknown user", client=client)
        raise SignInError(WRONG_CREDENTIALS)
    # Each branch writes first: on SQLite a transaction that read before writing could find
    # its snapshot stale once another sign-in committed, and fail instead of waiting.
    if attempt.disabled or not matches:
        detail: dict[str, Any] = {
            "reason": "disabled" if attempt.disabled else "password",
            "failed_logins": attempt.failed_logins,
        }
        if attempt.locked_until is not None:
            detail["locked_until"] = attempt.locked_until.astimezone(UTC).isoformat()
        await _audit_failure(session, attempt.username, detail, now, client)
        raise SignInError(WRONG_CREDENTIALS)
    await _give_back(session, attempt.user_id, lifting_lock=attempt.locked_until is not None)
    user = await _current(session, attempt.user_id)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = await passwords.hash_async(password)
    # The failure count is kept until the second step succeeds: reset here, it would let a
    # holder of the password guess codes for ever.
    if user.totp_exempt_by is not None:
        await _signed_in(session, user, now, client, second_factor="exempt")
        step = SignInStep.DONE
    elif user.totp_enrolled_at is not None:
        step = SignInStep.NEEDS_CODE
    else:
        step = SignInStep.NEEDS_ENROLMENT
    await session.flush()
    return SignIn(account=account_of(user, await roles_of(session, user.id)), step=step)


async def check_password(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    passwords: Passwords,
    now: datetime,
    lockout: Lockout,
    client: str | None,
    unknown: UnknownNames | None = None,
) -> SignIn:
    """The whole password step in the caller's transaction (the web app splits it in
    three); ``SignInError`` (after flushing the failure) if refused."""
    names = unknown if unknown is not None else UnknownNames()
    options: dict[str, Any] = {
        "passwords": passwords,
        "now": now,
        "lockout": lockout,
        "unknown": names,
        "client": client,
    }
    attempt = await claim_password(session, username=username, **options)
    matches = await passwords.check(attempt.password_hash, password)
    return await settle_password(session, attempt, matches=matches, password=password, **options)


# -- the code -------------------------------------------------------------------------------


async def check_code(
    session: AsyncSession,
    *,
    user_id: int,
    code: str,
    now: datetime,
    lockout: Lockout,
    client: str | None,
) -> Account:
    """The second step: the code from the app; ``SignInError`` (flushed) if wrong or reused."""
    claimed = (await session.execute(_claim(User.id == user_id, now, lockout))).one_or_none()
    user = await _current(session, user_id)
    if claimed is None:
        raise await _refuse_locked(session, user, now, client)
    detail: dict[str, Any] = {"failed_logins": claimed.failed_logins}
    if claimed.failed_logins >= lockout.after:
        detail["locked_until"] = claimed.locked_until.astimezone(UTC).isoformat()
    if user.disabled_at is not None:
        await _audit_failure(session, user.username, {"reason": "disabled", **detail}, now, client)
        raise SignInError(WRONG_CREDENTIALS)
    if user.totp_secret is None or user.totp_enrolled_at is None:
        await _give_back(session, user.id, lifting_lock="locked_until" in detail)
        raise SignInError("Two-factor sign-in is not set up for this account; sign in again.")
    step = matching_step(user.totp_secret, code, now, last_step=user.totp_last_step)
    if step is None:
        await _audit_failure(session, user.username, {"reason": "code", **detail}, now, client)
        raise SignInError(WRONG_CODE)
    user.totp_last_step = step
    await _signed_in(session, user, now, client, second_factor="totp")
    return account_of(user, await roles_of(session, user.id))


# -- enrolment ------------------------------------------------------------------------------


async def start_enrolment(session: AsyncSession, *, user_id: int) -> tuple[str, str]:
    """A new TOTP secret stored for the user and its ``otpauth://`` URI; it counts once
    confirmed. (The web app keeps the secret in the session instead: ``new_secret``.)

    Not audited: nothing changes for the account until ``confirm_enrolment``.
    """
    user = await user_row(session, user_id)
    if user.totp_enrolled_at is not None:
        raise InputError(f"User {user.username} has set up two-factor sign-in already.")
    user.totp_secret = new_secret()
    user.totp_last_step = None
    await session.flush()
    return user.totp_secret, provisioning_uri(user.totp_secret, user.username)


async def confirm_enrolment(
    session: AsyncSession,
    *,
    user_id: int,
    code: str,
    now: datetime,
    client: str | None,
    secret: str | None = None,
) -> Account:
    """Enrol with a first code from the app, which also signs the person in.

    ``secret`` is the one shown to this person (kept in their session); without it, the one
    ``start_enrolment`` stored. It is written in one conditional UPDATE that succeeds only
    while the account is still not enrolled: of two people who both got past the password,
    only the first to confirm enrols, and the other is refused. A wrong code is not counted:
    whoever reached enrolment knows the password.
    """
    chosen = secret
    if chosen is None:
        stored = await _current(session, user_id)
        if stored.totp_enrolled_at is not None:
            raise InputError(f"User {stored.username} has set up two-factor sign-in already.")
        if stored.totp_secret is None:
            raise InputError(f"Two-factor enrolment of user {stored.username} was not started.")
        chosen = stored.totp_secret
    step = matching_step(chosen, code, now, last_step=None)
    if step is None:
        raise SignInError(WRONG_CODE)
    enrolled = await session.execute(
        update(User)
        .where(User.id == user_id, User.totp_enrolled_at.is_(None), User.disabled_at.is_(None))
        .values(totp_secret=chosen, totp_enrolled_at=now, totp_last_step=step)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    )
    if enrolled.one_or_none() is None:
        user = await _current(session, user_id)
        if user.disabled_at is not None:
            raise SignInError(WRONG_CREDENTIALS)
        raise InputError(f"User {user.username} has set up two-factor sign-in already.")
    user = await _current(session, user_id)
    await trail.append(
        session, at=now, actor=user.username, action="totp.enrol", target=target_of(user)
    )
    await _signed_in(session, user, now, client, second_factor="totp")
    return account_of(user, await roles_of(session, user.id))


# -- the claim and its bookkeeping -----------------------------------------------------------


def _claim(which: ColumnElement[bool], now: datetime, lockout: Lockout) -> Any:
    """Count one failure and lock at the limit, only while not locked; the new row back.

    A lock that has been served counts as none, and the count starts again from one. Every
    SET expression reads the row as it was before the statement, on both databases.
    """
    served = and_(User.locked_until.is_not(None), User.locked_until <= now)
    count = case((served, 1), else_=User.failed_logins + 1)
    lock_at = literal(now + timedelta(minutes=lockout.minutes), UtcDateTime())
    return (
        update(User)
        .where(which, or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(
            failed_logins=count,
            locked_until=case((count >= lockout.after, lock_at), else_=null()),
        )
        .returning(
            User.id, User.password_hash, User.failed_logins, User.locked_until, User.disabled_at
        )
        .execution_options(synchronize_session=False)
    )


async def _current(session: AsyncSession, user_id: int) -> User:
    """The row as the database has it now (the claim changed it behind the ORM's back)."""
    user = await session.get(User, user_id, populate_existing=True)
    if user is None:
        raise NotFoundError(f"User {user_id} does not exist.")
    return user


async def _give_back(session: AsyncSession, user_id: int, *, lifting_lock: bool) -> None:
    """Undo a claim whose attempt turned out not to be a failure."""
    values: dict[str, Any] = {
        "failed_logins": case((User.failed_logins > 0, User.failed_logins - 1), else_=0)
    }
    if lifting_lock:
        values["locked_until"] = null()
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def _refuse_locked(
    session: AsyncSession, user: User, now: datetime, client: str | None
) -> SignInError:
    """Audit an attempt whose claim found the account locked (not counted); its refusal."""
    # Only a lock makes the claim fail; an admin who unlocked the account in between
    # leaves no end to show, so the attempt is refused as of now.
    until = user.locked_until if user.locked_until is not None else now
    await _audit_failure(session, user.username, {"reason": "locked"}, now, client)
    return SignInError(locked_message(until))


async def _audit_failure(
    session: AsyncSession, username: str, detail: dict[str, Any], now: datetime, client: str | None
) -> None:
    await trail.append(
        session,
        at=now,
        actor=username,
        action="login.failed",
        target=f"user:{username}",  # as store.target_of names an account
        detail=detail,
        client=client,
    )
    await session.flush()  # sent before the caller sees the error, to be committed with it


async def _signed_in(
    session: AsyncSession, user: User, now: datetime, client: str | None, *, second_factor: str
) -> None:
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    await trail.append(
        session,
        at=now,
        actor=user.username,
        action="login",
        target=target_of(user),
        detail={"second_factor": second_factor},
        client=client,
    )
