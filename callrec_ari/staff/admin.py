"""Administering staff accounts (the admin's): roles, extension, two-factor, password, lock.

Granting admin, dpo or director, or an exemption from two-factor sign-in, only asks for it:
a second admin approves it (``staff.grants``). Nobody changes their own roles or exemption.

Each change is audited in the caller's transaction, written first so that two admins'
changes run one after the other. Changing a password, resetting two-factor sign-in or
disabling an account ends the person's open sessions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor, Role, may_administer
from callrec_ari.audit import trail
from callrec_ari.db.models import User, UserRole
from callrec_ari.errors import ForbiddenError, InputError
from callrec_ari.staff import grants
from callrec_ari.staff.passwords import Passwords, check_password_policy
from callrec_ari.staff.store import (
    Account,
    account_of,
    flushed,
    roles_of,
    target_of,
    user_row,
    valid_extension,
    valid_roles,
)


async def set_roles(
    session: AsyncSession,
    *,
    by: Actor,
    user_id: int,
    roles: Iterable[Role],
    now: datetime,
    client: str | None = None,
    bootstrap: bool = False,
) -> Account:
    """Replace the user's roles; refused if no active admin would remain.

    Lesser roles and removals take effect at once; each privileged role new to the user
    becomes a pending grant. With ``bootstrap`` (the command line only), every role is given
    at once while no active admin exists: nobody could approve it, and a fresh installation
    gets its first admin so.
    """
    user = await _administered(session, by, user_id)
    grants.refuse_own(by, user.username, "change the roles of")
    after = valid_roles(roles)
    before = await roles_of(session, user.id)
    now_roles, asked = grants.split(before, after)
    first_admin = bool(asked) and bootstrap and await grants.no_active_admin(session)
    if first_admin:
        now_roles, asked = after, frozenset()
    await _audit(
        session,
        by,
        user,
        "user.roles",
        now=now,
        client=client,
        before=before,
        after=now_roles,
        asked=asked,
        **({"bootstrap": True} if first_admin else {}),
    )
    if Role.ADMIN in before and Role.ADMIN not in now_roles and user.disabled_at is None:
        await _keep_an_admin(session, user, "taking the admin role from")
    await session.execute(delete(UserRole).where(UserRole.user_id == user.id))
    session.add_all(UserRole(user_id=user.id, role=role.value) for role in sorted(now_roles))
    await session.flush()
    await grants.ask_roles(session, by=by, user=user, roles=asked, now=now, client=client)
    return account_of(user, now_roles)


async def set_extension(
    session: AsyncSession,
    *,
    by: Actor,
    user_id: int,
    extension: str | None,
    now: datetime,
    client: str | None = None,
) -> Account:
    """Set or clear the extension whose calls the user sees as an agent."""
    user = await _administered(session, by, user_id)
    ext = valid_extension(extension)
    await _audit(
        session,
        by,
        user,
        "user.extension",
        now=now,
        client=client,
        before=user.extension,
        after=ext,
    )
    user.extension = ext
    return await flushed(session, user)


async def set_totp_exempt(
    session: AsyncSession,
    *,
    by: Actor,
    user_id: int,
    exempt: bool,
    now: datetime,
    client: str | None = None,
) -> Account:
    """Ask for the user's exemption from two-factor sign-in (a second admin approves it), or
    end it at once."""
    user = await _administered(session, by, user_id)
    grants.refuse_own(by, user.username, "change the two-factor sign-in of")
    if exempt:
        if user.totp_exempt_by is None:
            await grants.ask(
                session, by=by, user=user, kind=grants.Kind.TOTP_EXEMPT, now=now, client=client
            )
        return await flushed(session, user)
    await _audit(session, by, user, "user.totp_exempt", now=now, client=client, exempt=False)
    user.totp_exempt_by = None
    return await flushed(session, user)


async def reset_totp(
    session: AsyncSession, *, by: Actor, user_id: int, now: datetime, client: str | None = None
) -> Account:
    """Forget the user's authenticator: they enrol again at their next sign-in."""
    user = await _administered(session, by, user_id)
    await _audit(session, by, user, "user.totp_reset", now=now, client=client)
    user.totp_secret = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    user.sessions_revoked_at = now  # a session signed in with the old authenticator ends
    return await flushed(session, user)


async def set_password(
    session: AsyncSession,
    *,
    by: Actor,
    user_id: int,
    password: str,
    passwords: Passwords,
    now: datetime,
    client: str | None = None,
) -> Account:
    """Give the user a new password (which must meet the policy)."""
    user = await _administered(session, by, user_id)
    check_password_policy(password, user.username)
    await _audit(session, by, user, "user.password", now=now, client=client)
    user.password_hash = await asyncio.to_thread(passwords.hash, password)
    user.password_changed_at = now
    user.sessions_revoked_at = now  # whoever knew the old password is signed out too
    return await flushed(session, user)


async def set_disabled(
    session: AsyncSession,
    *,
    by: Actor,
    user_id: int,
    disabled: bool,
    now: datetime,
    client: str | None = None,
) -> Account:
    """Disable the account (no sign-in, sessions end) or enable it again."""
    user = await _administered(session, by, user_id)
    action = "user.disable" if disabled else "user.enable"
    await _audit(session, by, user, action, now=now, client=client)
    if disabled and user.disabled_at is None:
        if Role.ADMIN in await roles_of(session, user.id):
            await _keep_an_admin(session, user, "disabling")
        user.disabled_at = now
        user.sessions_revoked_at = now
    elif not disabled:
        user.disabled_at = None
    return await flushed(session, user)


async def unlock(
    session: AsyncSession, *, by: Actor, user_id: int, now: datetime, client: str | None = None
) -> Account:
    """Lift a lock-out and forget the failed sign-ins."""
    user = await _administered(session, by, user_id)
    await _audit(
        session, by, user, "user.unlock", now=now, client=client, failed_logins=user.failed_logins
    )
    user.failed_logins = 0
    user.locked_until = None
    return await flushed(session, user)


async def _administered(session: AsyncSession, by: Actor, user_id: int) -> User:
    if not may_administer(by):
        raise ForbiddenError(f"{by.described} may not manage staff accounts.")
    return await user_row(session, user_id)


async def _audit(
    session: AsyncSession,
    by: Actor,
    user: User,
    action: str,
    *,
    now: datetime,
    client: str | None,
    **detail: Any,
) -> None:
    # Written before the change, as its first statement: appending locks the audit head until
    # the transaction ends, so two admins' changes run one after the other and the
    # last-admin check that follows sees the other's committed change (no write skew).
    shown = {k: sorted(v) if isinstance(v, frozenset) else v for k, v in detail.items()}
    await trail.append(
        session,
        at=now,
        actor=by.name,
        action=action,
        target=target_of(user),
        detail=shown,
        client=client,
    )


async def _keep_an_admin(session: AsyncSession, user: User, doing: str) -> None:
    others = await session.scalar(
        select(func.count())
        .select_from(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.ADMIN.value, User.disabled_at.is_(None), User.id != user.id)
    )
    if not others:
        raise InputError(
            f"User {user.username} is the last active admin: make another user admin "
            f"before {doing} them."
        )
