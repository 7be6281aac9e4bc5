"""Staff accounts: creating them, signing in (a password, then a code) and administering them.

Every function works inside the caller's open transaction and never commits; each change
appends its audit entry (``audit.trail.append``) in that same transaction, so the change
and its record are committed together or not at all.

Signing in lives in ``staff.signin`` and is reached from here too. A failed sign-in raises
``SignInError`` only after its bookkeeping (the failure count, the lock, the
``login.failed`` entry) was flushed. The caller must still commit it: catch the
error inside ``async with session.begin():`` and act on it after the block, e.g.::

    async with sessions() as db, db.begin():
        try:
            signin = await accounts.check_password(db, ...)
        except SignInError as exc:
            failure = exc  # committed with the block, then shown
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
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
from callrec_ari.staff.passwords import Passwords, check_password_policy
from callrec_ari.staff.signin import (
    SignIn,
    SignInError,
    SignInStep,
    check_code,
    check_password,
    confirm_enrolment,
    start_enrolment,
)
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
