"""Four eyes on privileged grants: admin, dpo and director, and exemption from two-factor sign-in.

One admin asks; the grant waits as a *pending grant* until a different admin approves it::

    ask (admin A) --> pending --approve (admin B, not A, not the grantee)--> approved: effective
                         |------refuse (admin B)---------------------------> refused
                         '------withdraw (admin A, refusing their own)------> withdrawn

Nobody asks for, approves or refuses anything on their own account. The lesser roles (agent,
supervisor) and every removal (a role taken away, an exemption ended) take effect at once:
taking a power away can only reduce what one person can do alone, so it needs no second
person. Each request and decision is an audit entry naming the grantee and both admins.

A CLI operator acts as ``cli:<login name>`` (the person behind ``sudo`` where there is one),
the same person as the web account of that name. While no active admin exists, nobody could
approve anything: the command line's grants then take effect at once, as a bootstrap.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor, Role, may_administer
from callrec_ari.audit import trail
from callrec_ari.db.models import PendingGrant, User, UserRole
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError
from callrec_ari.staff.store import target_of, user_row

PRIVILEGED = frozenset({Role.ADMIN, Role.DPO, Role.DIRECTOR})
CLI_PREFIX = "cli:"


class Kind(enum.StrEnum):
    """What a grant gives."""

    ROLE = "role"
    TOTP_EXEMPT = "totp_exempt"


class Outcome(enum.StrEnum):
    """How a grant was decided."""

    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, kw_only=True)
class Grant:
    """A grant asked for, and its decision once there is one."""

    id: int
    user_id: int
    username: str
    kind: Kind
    role: Role | None
    requested_by: str
    requested_at: datetime
    outcome: Outcome | None
    decided_by: str | None
    decided_at: datetime | None

    @property
    def what(self) -> str:
        """What it gives, in words: ``the role dpo``."""
        if self.kind is Kind.ROLE:
            return f"the role {self.role}"
        return "exemption from two-factor sign-in"

    def to_json(self) -> dict[str, Any]:
        """The grant for the JSON API."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "username": self.username,
            "kind": self.kind.value,
            "role": self.role.value if self.role else None,
            "requested_by": self.requested_by,
            "requested_at": self.requested_at.isoformat(),
            "outcome": self.outcome.value if self.outcome else None,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
        }


# -- the rules (pure) ----------------------------------------------------------------------


def person(name: str) -> str:
    """The person behind an actor name: ``cli:anna`` and ``anna`` are the same person."""
    return name.removeprefix(CLI_PREFIX)


def refuse_own(by: Actor, username: str, doing: str) -> None:
    """``ForbiddenError`` if ``by`` would act on their own account."""
    if person(by.name) == username:
        raise ForbiddenError(
            f"{by.name} may not {doing} their own account: another admin must do it."
        )


def split(
    before: frozenset[Role], after: frozenset[Role]
) -> tuple[frozenset[Role], frozenset[Role]]:
    """The roles effective at once, and the privileged roles new in ``after`` to be approved."""
    asked = (after - before) & PRIVILEGED
    return after - asked, asked


def decision(by: Actor, grant: Grant, *, approve: bool) -> Outcome:
    """What ``by`` deciding ``grant`` amounts to; ``ForbiddenError`` if they may not."""
    if not may_administer(by):
        raise ForbiddenError(f"{by.described} may not decide grants.")
    if grant.outcome is not None:
        raise InputError(f"Grant {grant.id} was {grant.outcome} already.")
    own_request = person(by.name) == person(grant.requested_by)
    if own_request and approve:
        raise ForbiddenError(
            f"{by.name} asked for grant {grant.id} and may not approve it: another admin must."
        )
    refuse_own(by, grant.username, "decide a grant to")
    if own_request:
        return Outcome.WITHDRAWN
    return Outcome.APPROVED if approve else Outcome.REFUSED


# -- asking --------------------------------------------------------------------------------


async def no_active_admin(session: AsyncSession) -> bool:
    """Whether no enabled account holds the admin role (a fresh or orphaned installation)."""
    count = await session.scalar(
        select(func.count())
        .select_from(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.ADMIN.value, User.disabled_at.is_(None))
    )
    return not count


async def ask(
    session: AsyncSession,
    *,
    by: Actor,
    user: User,
    kind: Kind,
    role: Role | None = None,
    now: datetime,
    client: str | None = None,
) -> Grant:
    """Ask for a grant for ``user`` (the same one, if already pending, is not asked twice)."""
    refuse_own(by, user.username, "grant anything to")
    same_role = PendingGrant.role == role.value if role else PendingGrant.role.is_(None)
    waiting = await session.scalar(
        select(PendingGrant).where(
            PendingGrant.user_id == user.id,
            PendingGrant.kind == kind.value,
            same_role,
            PendingGrant.outcome.is_(None),
        )
    )
    if waiting is not None:
        return _grant(waiting, user.username)
    row = PendingGrant(
        user_id=user.id,
        kind=kind.value,
        role=role.value if role else None,
        requested_by=by.name,
        requested_at=now,
    )
    session.add(row)
    await session.flush()
    grant = _grant(row, user.username)
    await trail.append(
        session,
        at=now,
        actor=by.name,
        action="grant.request",
        target=target_of(user),
        detail={
            "grant": grant.id,
            "kind": kind.value,
            "role": grant.role,
            "grantee": user.username,
        },
        client=client,
    )
    return grant


async def ask_roles(
    session: AsyncSession,
    *,
    by: Actor,
    user: User,
    roles: Iterable[Role],
    now: datetime,
    client: str | None = None,
) -> list[Grant]:
    """Ask for each of ``roles`` (privileged ones) for ``user``."""
    return [
        await ask(session, by=by, user=user, kind=Kind.ROLE, role=role, now=now, client=client)
        for role in sorted(roles)
    ]


# -- reading -------------------------------------------------------------------------------


async def list_grants(
    session: AsyncSession, *, user_id: int | None = None, decided: bool = False
) -> list[Grant]:
    """Pending grants, oldest first (of one user if ``user_id``); with ``decided``, all."""
    query = select(PendingGrant, User.username).join(User, User.id == PendingGrant.user_id)
    if user_id is not None:
        query = query.where(PendingGrant.user_id == user_id)
    if not decided:
        query = query.where(PendingGrant.outcome.is_(None))
    rows = await session.execute(query.order_by(PendingGrant.id))
    return [_grant(row, username) for row, username in rows]


async def get_grant(session: AsyncSession, grant_id: int) -> Grant:
    """The grant with this id; ``NotFoundError`` if there is none."""
    row = await session.get(PendingGrant, grant_id)
    if row is None:
        raise NotFoundError(f"Grant {grant_id} does not exist.")
    return _grant(row, (await user_row(session, row.user_id)).username)


# -- deciding ------------------------------------------------------------------------------


async def decide(
    session: AsyncSession,
    *,
    by: Actor,
    grant_id: int,
    approve: bool,
    now: datetime,
    client: str | None = None,
) -> Grant:
    """Approve or refuse a pending grant (the requester refusing it withdraws it).

    An approved grant takes effect in the same transaction as its audit entry.
    """
    grant = await get_grant(session, grant_id)
    outcome = decision(by, grant, approve=approve)
    user = await user_row(session, grant.user_id)
    action = {
        Outcome.APPROVED: "grant.approve",
        Outcome.REFUSED: "grant.refuse",
        Outcome.WITHDRAWN: "grant.withdraw",
    }[outcome]
    await trail.append(
        session,
        at=now,
        actor=by.name,
        action=action,
        target=target_of(user),
        detail={
            "grant": grant.id,
            "kind": grant.kind.value,
            "role": grant.role,
            "grantee": user.username,
            "requested_by": grant.requested_by,
            "requested_at": grant.requested_at.isoformat(),
        },
        client=client,
    )
    # Claimed with a condition, not from the row read above: of two admins deciding at once,
    # one wins and the other is told it was decided already.
    claimed = await session.execute(
        update(PendingGrant)
        .where(PendingGrant.id == grant.id, PendingGrant.outcome.is_(None))
        .values(outcome=outcome.value, decided_by=by.name, decided_at=now)
        .returning(PendingGrant.id)
    )
    if claimed.scalar_one_or_none() is None:
        raise InputError(f"Grant {grant.id} was decided already.")
    if outcome is Outcome.APPROVED:
        await _apply(session, grant, user)
    return await get_grant(session, grant.id)


async def _apply(session: AsyncSession, grant: Grant, user: User) -> None:
    if grant.kind is Kind.TOTP_EXEMPT:
        user.totp_exempt_by = grant.requested_by
    elif grant.role is not None:
        held = await session.scalar(
            select(UserRole.role).where(
                UserRole.user_id == user.id, UserRole.role == grant.role.value
            )
        )
        if held is None:
            session.add(UserRole(user_id=user.id, role=grant.role.value))
    await session.flush()


def _grant(row: PendingGrant, username: str) -> Grant:
    return Grant(
        id=row.id,
        user_id=row.user_id,
        username=username,
        kind=Kind(row.kind),
        role=Role(row.role) if row.role else None,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        outcome=Outcome(row.outcome) if row.outcome else None,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )
