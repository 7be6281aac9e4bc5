"""Whether a signed-in browser session still counts, and signing out everywhere.

A session remembers the account and when it signed in; the cookie itself cannot be taken
back. Signing out, a new password, a 2FA reset or disabling the account set the account's
``sessions_revoked_at`` instead, and every session that signed in before that moment ends
at its next request, in any browser that still holds a copy of the cookie.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.audit import trail
from callrec_ari.db.models import User
from callrec_ari.staff.store import Account, account_of, roles_of

__all__ = ["session_account", "sign_out"]


async def session_account(
    session: AsyncSession, user_id: int, *, signed_in_at: datetime | None
) -> Account | None:
    """The account of a session that signed in at ``signed_in_at``; ``None`` if the
    session no longer counts: the account is gone or disabled, or its sessions were ended
    after that moment (an unknown moment counts as before)."""
    user = await session.get(User, user_id)
    if user is None or user.disabled_at is not None:
        return None
    revoked = user.sessions_revoked_at
    if revoked is not None and (signed_in_at is None or signed_in_at < revoked):
        return None
    return account_of(user, await roles_of(session, user.id))


async def sign_out(
    session: AsyncSession, account: Account, *, now: datetime, client: str | None = None
) -> None:
    """End every session of ``account`` (every copy of every cookie), audited as ``logout``."""
    user = await session.get(User, account.id)
    if user is not None:
        user.sessions_revoked_at = now
    await trail.append(session, at=now, actor=account.username, action="logout", client=client)
