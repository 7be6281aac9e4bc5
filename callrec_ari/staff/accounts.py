"""Staff accounts: creating them, signing in (a password, then a code) and administering them.

Every function works inside the caller's open transaction and never commits; each change
appends its audit entry (``audit.trail.append``) in that same transaction, so the change
and its record are committed together or not at all.

A failed sign-in raises ``SignInError`` only after its bookkeeping (the failure count, the
lock, the ``login.failed`` entry) was flushed. The caller must still commit it: catch the
error inside ``async with session.begin():`` and act on it after the block, e.g.::

    async with sessions() as db, db.begin():
        try:
            signin = await accounts.check_password(db, ...)
        except SignInError as exc:
            failure = exc  # committed with the block, then shown
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor, Role
from callrec_ari.audit import trail
from callrec_ari.db.models import User, UserRole
from callrec_ari.errors import InputError, NotFoundError
from callrec_ari.staff import grants
from callrec_ari.staff.admin import (
    reset_totp,
    set_disabled,
    set_extension,
    set_password,
    set_roles,
    set_totp_exempt,
    unlock,
)
from callrec_ari.staff.lockout import Lockout
from callrec_ari.staff.passwords import Passwords, check_password_policy
from callrec_ari.staff.store import (
    LANGUAGES,
    Account,
    account_of,
    roles_of,
    target_of,
    user_row,
    valid_extension,
    valid_roles,
    valid_text,
    valid_username,
)
from callrec_ari.staff.totp import matching_step, new_secret, provisioning_uri

# The web app and the command line reach every account operation through this module.
__all__ = [
    "LANGUAGES",
    "Account",
    "SignIn",
    "SignInError",
    "SignInStep",
    "check_code",
    "check_password",
    "confirm_enrolment",
    "create_user",
    "find_account",
    "get_account",
    "list_accounts",
    "reset_totp",
    "set_disabled",
    "set_extension",
    "set_password",
    "set_roles",
    "set_totp_exempt",
    "start_enrolment",
    "unlock",
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


# -- creating and reading ------------------------------------------------------------------


async def create_user(
    session: AsyncSession,
    *,
    by: str,
    username: str,
    display_name: str,
    password: str,
    passwords: Passwords,
    roles: Iterable[Role],
    extension: str | None = None,
    language: str = "en",
    totp_exempt: bool = False,
    now: datetime,
    client: str | None = None,
    four_eyes: Actor | None = None,
    bootstrap: bool = False,
) -> Account:
    """Add a user; ``by`` names who does (an admin's username or ``cli:<os user>``).

    The caller has checked that ``by`` may administer users. With ``four_eyes`` (the admin
    asking, as the web app and the command line pass), admin, dpo, director and the
    exemption are only asked for (``staff.grants``); with ``bootstrap`` as well (the command
    line) they are given at once while no active admin exists, as nobody could approve them.
    Without ``four_eyes`` (setting up tests) they are given at once.
    """
    name = valid_username(username)
    display = valid_text(display_name, "display name")
    asked_for = valid_roles(roles)
    role_set, asked = asked_for, frozenset[Role]()
    needs_two = bool(asked_for & grants.PRIVILEGED) or totp_exempt
    first_admin = bootstrap and needs_two and await grants.no_active_admin(session)
    if four_eyes is not None and not first_admin:
        role_set, asked = grants.split(frozenset(), asked_for)
    ask_exemption = totp_exempt and four_eyes is not None and not first_admin
    ext = valid_extension(extension)
    if language not in LANGUAGES:
        raise InputError(f"Language {language} is not one of {', '.join(LANGUAGES)}.")
    check_password_policy(password, name)
    if await session.scalar(select(User.id).where(User.username == name)) is not None:
        raise InputError(f"User {name} already exists.")
    user = User(
        username=name,
        display_name=display,
        password_hash=await asyncio.to_thread(passwords.hash, password),
        extension=ext,
        language=language,
        totp_exempt_by=by if totp_exempt and not ask_exemption else None,
        failed_logins=0,
        password_changed_at=now,
        created_at=now,
        created_by=by,
    )
    session.add(user)
    await session.flush()  # the new id, for the roles
    session.add_all(UserRole(user_id=user.id, role=role.value) for role in sorted(role_set))
    await trail.append(
        session,
        at=now,
        actor=by,
        action="user.create",
        target=target_of(user),
        detail=_created(role_set, ext, totp_exempt and not ask_exemption, asked, ask_exemption)
        | ({"bootstrap": True} if first_admin else {}),
        client=client,
    )
    await session.flush()
    if four_eyes is not None:
        await grants.ask_roles(
            session, by=four_eyes, user=user, roles=asked, now=now, client=client
        )
        if ask_exemption:
            await grants.ask(
                session,
                by=four_eyes,
                user=user,
                kind=grants.Kind.TOTP_EXEMPT,
                now=now,
                client=client,
            )
    return account_of(user, role_set)


def _created(
    roles: frozenset[Role],
    extension: str | None,
    exempt: bool,
    asked: frozenset[Role],
    ask_exemption: bool,
) -> dict[str, Any]:
    """The ``user.create`` entry's detail: what was given, and what was only asked for."""
    detail: dict[str, Any] = {"roles": sorted(roles), "extension": extension, "totp_exempt": exempt}
    if asked:
        detail["asked"] = sorted(asked)
    if ask_exemption:
        detail["asked_totp_exempt"] = True
    return detail


async def get_account(session: AsyncSession, user_id: int) -> Account:
    """The account with this id; ``NotFoundError`` if there is none."""
    user = await user_row(session, user_id)
    return account_of(user, await roles_of(session, user.id))


async def find_account(session: AsyncSession, username: str) -> Account:
    """The account with this username; ``NotFoundError`` if there is none."""
    name = username.strip().lower()
    user = await session.scalar(select(User).where(User.username == name))
    if user is None:
        raise NotFoundError(f"User {name} does not exist.")
    return account_of(user, await roles_of(session, user.id))


async def list_accounts(session: AsyncSession) -> list[Account]:
    """Every account, by username."""
    roles: dict[int, set[Role]] = {}
    for user_id, role in await session.execute(select(UserRole.user_id, UserRole.role)):
        roles.setdefault(user_id, set()).add(Role(role))
    users = await session.scalars(select(User).order_by(User.username))
    return [account_of(user, frozenset(roles.get(user.id, ()))) for user in users]


# -- signing in ----------------------------------------------------------------------------


async def check_password(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    passwords: Passwords,
    now: datetime,
    lockout: Lockout,
    client: str | None,
) -> SignIn:
    """The first step of signing in; ``SignInError`` (after flushing the failure) if refused.

    An unknown user, a wrong password and a disabled account get the same answer, after the
    same argon2 work, so neither the message nor the time tells which it was.
    """
    name = username.strip().lower()
    user = await session.scalar(select(User).where(User.username == name)) if name else None
    if user is None:
        await asyncio.to_thread(passwords.verify, passwords.unknown_user_hash, password)
        # Not audited: a mistyped name is often the password, and the trail is kept forever.
        log.info("staff.sign_in_refused", reason="unknown user", client=client)
        raise SignInError(WRONG_CREDENTIALS)
    await _refuse_if_locked(session, user, lockout, now, client)
    matches = await asyncio.to_thread(passwords.verify, user.password_hash, password)
    if user.disabled_at is not None:
        await _failed(session, user, "disabled", now, client)
        raise SignInError(WRONG_CREDENTIALS)
    if not matches:
        await _failed(session, user, "password", now, client, lockout=lockout)
        raise SignInError(WRONG_CREDENTIALS)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = await asyncio.to_thread(passwords.hash, password)
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
    user = await user_row(session, user_id)
    await _refuse_if_locked(session, user, lockout, now, client)
    if user.disabled_at is not None:
        await _failed(session, user, "disabled", now, client)
        raise SignInError(WRONG_CREDENTIALS)
    if user.totp_secret is None or user.totp_enrolled_at is None:
        raise SignInError("Two-factor sign-in is not set up for this account; sign in again.")
    step = matching_step(user.totp_secret, code, now, last_step=user.totp_last_step)
    if step is None:
        await _failed(session, user, "code", now, client, lockout=lockout)
        raise SignInError(WRONG_CODE)
    user.totp_last_step = step
    await _signed_in(session, user, now, client, second_factor="totp")
    return account_of(user, await roles_of(session, user.id))


async def start_enrolment(session: AsyncSession, *, user_id: int) -> tuple[str, str]:
    """A new TOTP secret for the user and its ``otpauth://`` URI; it counts once confirmed.

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
    session: AsyncSession, *, user_id: int, code: str, now: datetime, client: str | None
) -> Account:
    """Enrol with a first code from the app, which also signs the person in.

    A wrong code is not counted: whoever reached enrolment knows the password and could scan
    the new secret anyway.
    """
    user = await user_row(session, user_id)
    if user.totp_enrolled_at is not None:
        raise InputError(f"User {user.username} has set up two-factor sign-in already.")
    if user.disabled_at is not None:
        raise SignInError(WRONG_CREDENTIALS)
    if user.totp_secret is None:
        raise InputError(f"Two-factor enrolment of user {user.username} was not started.")
    step = matching_step(user.totp_secret, code, now, last_step=None)
    if step is None:
        raise SignInError(WRONG_CODE)
    user.totp_enrolled_at = now
    user.totp_last_step = step
    await trail.append(
        session, at=now, actor=user.username, action="totp.enrol", target=target_of(user)
    )
    await _signed_in(session, user, now, client, second_factor="totp")
    return account_of(user, await roles_of(session, user.id))


async def _refuse_if_locked(
    session: AsyncSession, user: User, lockout: Lockout, now: datetime, client: str | None
) -> None:
    if user.locked_until is not None and not lockout.is_locked(user.locked_until, now):
        # The lock was served: the next failures count from zero again.
        user.failed_logins = 0
        user.locked_until = None
    if user.locked_until is not None:
        until = user.locked_until
        await _failed(session, user, "locked", now, client)
        raise SignInError(
            f"This account is locked until {until.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC."
        )


async def _failed(
    session: AsyncSession,
    user: User,
    reason: str,
    now: datetime,
    client: str | None,
    *,
    lockout: Lockout | None = None,
) -> None:
    """Audit a refused sign-in, counting it towards the lock if ``lockout`` is given."""
    detail: dict[str, Any] = {"reason": reason}
    if lockout is not None:
        # Counted in the database, not from the row read earlier: attempts racing each other
        # would otherwise each write the same count and parallel guessing would go unlocked.
        counted = await session.execute(
            update(User)
            .where(User.id == user.id)
            .values(failed_logins=User.failed_logins + 1)
            .returning(User.failed_logins)
        )
        user.failed_logins, locked_until = lockout.failed(counted.scalar_one() - 1, now)
        detail["failed_logins"] = user.failed_logins
        if locked_until is not None:
            user.locked_until = locked_until
            detail["locked_until"] = locked_until.astimezone(UTC).isoformat()
    await trail.append(
        session,
        at=now,
        actor=user.username,
        action="login.failed",
        target=target_of(user),
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
