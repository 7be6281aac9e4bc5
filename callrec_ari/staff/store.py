"""Staff account rows: reading them, turning them into ``Account`` values, checking fields."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor, Role
from callrec_ari.db.models import User, UserRole
from callrec_ari.errors import InputError, NotFoundError

LANGUAGES = ("en", "pl", "sv", "fi", "ro")  # the web app's translations
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
_TEXT_MAX = 128  # display names and extensions, as the columns hold them


@dataclass(frozen=True, kw_only=True)
class Account:
    """A member of staff's account, without the password hash or the TOTP secret."""

    id: int
    username: str
    display_name: str
    roles: frozenset[Role]
    extension: str | None
    language: str
    totp_enrolled: bool
    totp_exempt: bool
    locked_until: datetime | None
    disabled: bool
    last_login_at: datetime | None

    @property
    def actor(self) -> Actor:
        """The account acting on calls, with its roles and extension."""
        return Actor(name=self.username, roles=self.roles, extension=self.extension)


async def user_row(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"User {user_id} does not exist.")
    return user


async def roles_of(session: AsyncSession, user_id: int) -> frozenset[Role]:
    rows = await session.scalars(select(UserRole.role).where(UserRole.user_id == user_id))
    return frozenset(Role(role) for role in rows)


async def flushed(session: AsyncSession, user: User) -> Account:
    await session.flush()
    return account_of(user, await roles_of(session, user.id))


def account_of(user: User, roles: frozenset[Role]) -> Account:
    return Account(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=roles,
        extension=user.extension,
        language=user.language,
        totp_enrolled=user.totp_enrolled_at is not None,
        totp_exempt=user.totp_exempt_by is not None,
        locked_until=user.locked_until,
        disabled=user.disabled_at is not None,
        last_login_at=user.last_login_at,
    )


def target_of(user: User) -> str:
    return f"user:{user.username}"


def valid_username(username: str) -> str:
    name = username.strip().lower()
    if _USERNAME.fullmatch(name) is None:
        raise InputError(
            f"Username {username!r} is not valid: use 2 to 64 of a-z, 0-9, '.', '_' and '-', "
            "starting with a letter or digit."
        )
    return name


def valid_roles(roles: Iterable[Role | str]) -> frozenset[Role]:
    valid = set()
    for role in roles:
        try:
            valid.add(Role(role))
        except ValueError:
            raise InputError(f"Role {role} does not exist: use {', '.join(Role)}.") from None
    if not valid:
        raise InputError("A user needs at least one role.")
    return frozenset(valid)


def valid_text(value: str, what: str) -> str:
    text = value.strip()
    if not text:
        raise InputError(f"The {what} must not be empty.")
    if len(text) > _TEXT_MAX or not text.isprintable():
        raise InputError(f"The {what} must be at most {_TEXT_MAX} printable characters.")
    return text


def valid_extension(extension: str | None) -> str | None:
    if extension is None or not extension.strip():
        return None
    return valid_text(extension, "extension")
