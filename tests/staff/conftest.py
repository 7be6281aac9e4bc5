"""Fixtures for the staff tests: a clock, a lock-out rule, users made and signed in as the
web app does it (each step one committed transaction)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pyotp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.access import Actor, Role
from callrec_ari.db.models import AuditEntry, User
from callrec_ari.staff import accounts
from callrec_ari.staff.accounts import Account, SignIn, SignInError
from callrec_ari.staff.lockout import Lockout
from tests.support.passwords import CHEAP_PASSWORDS

NOW = datetime(2026, 12, 1, 12, 0, 10, tzinfo=UTC)
PASSWORD = "correct horse battery"
LOCKOUT = Lockout(after=3, minutes=15)
CLI_ADMIN = Actor.of("cli:root", Role.ADMIN)
CLIENT = "192.0.2.7"

Sessions = async_sessionmaker[AsyncSession]


async def make_user(
    sessions: Sessions, username: str = "anna", *roles: Role, **options: Any
) -> Account:
    """A user made by the CLI operator, an agent unless ``roles`` say otherwise."""
    async with sessions() as session, session.begin():
        return await accounts.create_user(
            session,
            by="cli:root",
            username=username,
            display_name=options.pop("display_name", username.title()),
            password=options.pop("password", PASSWORD),
            passwords=CHEAP_PASSWORDS,
            roles=roles or (Role.AGENT,),
            now=options.pop("now", NOW),
            **options,
        )


async def sign_in(
    sessions: Sessions, username: str, password: str = PASSWORD, *, now: datetime = NOW
) -> SignIn | SignInError:
    """The password step as the web app runs it: the error kept, the transaction committed."""
    async with sessions() as session, session.begin():
        try:
            return await accounts.check_password(
                session,
                username=username,
                password=password,
                passwords=CHEAP_PASSWORDS,
                now=now,
                lockout=LOCKOUT,
                client=CLIENT,
            )
        except SignInError as exc:
            return exc


async def enter_code(
    sessions: Sessions, user_id: int, code: str, *, now: datetime = NOW
) -> Account | SignInError:
    """The code step as the web app runs it."""
    async with sessions() as session, session.begin():
        try:
            return await accounts.check_code(
                session, user_id=user_id, code=code, now=now, lockout=LOCKOUT, client=CLIENT
            )
        except SignInError as exc:
            return exc


async def enrol(sessions: Sessions, user_id: int, *, now: datetime = NOW) -> str:
    """Enrol the user's authenticator app; return its secret."""
    async with sessions() as session, session.begin():
        secret, _ = await accounts.start_enrolment(session, user_id=user_id)
    async with sessions() as session, session.begin():
        await accounts.confirm_enrolment(
            session, user_id=user_id, code=pyotp.TOTP(secret).at(now), now=now, client=CLIENT
        )
    return secret


async def stored(sessions: Sessions, username: str) -> User:
    """The user's row as committed."""
    async with sessions() as session:
        user = await session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


async def trail(sessions: Sessions) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    """The audit trail as (actor, action, target, detail), oldest first."""
    async with sessions() as session:
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        return [(r.actor, r.action, r.target, json.loads(r.detail)) for r in rows]


async def raw_trail(sessions: Sessions) -> str:
    """Every audit row's text, to look for secrets in."""
    async with sessions() as session:
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        return "\n".join(f"{r.actor} {r.action} {r.target} {r.detail} {r.client}" for r in rows)
