"""The one-time download token kept for the asker's own page, sealed with a key the
database does not hold.

``decide_release`` hands the token out once, to the director's request. So that the asker
can download later from their own page, the token is also kept on the release sealed
(encrypted and authenticated: the web app seals with its cookie key) and cleared once used.
Someone reading the database sees only the seal and the token's SHA-256: neither downloads.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Protocol

from cryptography.fernet import InvalidToken
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor
from callrec_ari.calls.listen import Listening
from callrec_ari.crypto.keys import MasterKeys
from callrec_ari.db.models import Release
from callrec_ari.releases.service import ReleaseView, decide_release, redeem_release
from callrec_ari.storage.recordings import Offsite

__all__ = ["Seal", "decide_and_seal", "redeem_sealed"]


class Seal(Protocol):
    """Seals and opens tokens (``cryptography.fernet.Fernet`` is one); opening a seal made
    with another key raises ``InvalidToken``."""

    def encrypt(self, data: bytes) -> bytes:
        """``data`` sealed."""
        ...

    def decrypt(self, token: bytes) -> bytes:
        """What ``token`` sealed."""
        ...


async def decide_and_seal(
    session: AsyncSession,
    *,
    seal: Seal,
    actor: Actor,
    release_id: int,
    approve: bool,
    note: str | None,
    now: datetime,
    valid_hours: int,
    client: str | None,
) -> ReleaseView:
    """``decide_release``, keeping an approval's token sealed on the release for the asker."""
    release, token = await decide_release(
        session,
        actor=actor,
        release_id=release_id,
        approve=approve,
        note=note,
        now=now,
        valid_hours=valid_hours,
        client=client,
    )
    if token is not None:
        sealed = seal.encrypt(token.encode()).decode()
        await session.execute(
            update(Release).where(Release.id == release_id).values(token_sealed=sealed)
        )
    return release


async def redeem_sealed(
    session: AsyncSession,
    *,
    seal: Seal,
    actor: Actor,
    release_id: int,
    recordings_dir: Path,
    now: datetime,
    client: str | None,
    keys: MasterKeys | None = None,
    offsite: Offsite | None = None,
) -> Listening:
    """``redeem_release`` with the token kept on the release, which is then cleared.

    The errors are ``redeem_release``'s: a release without a seal, or sealed under another
    key, is refused as a wrong token. As there, an expiry is marked in the caller's
    transaction before the error is raised: commit despite the error to keep it.
    """
    # The column alone: the release row itself is read, and locked, by ``redeem_release``.
    sealed = await session.scalar(select(Release.token_sealed).where(Release.id == release_id))
    try:
        token = seal.decrypt(sealed.encode()).decode() if sealed else ""
    except InvalidToken:
        token = ""  # sealed under an older key
    listening = await redeem_release(
        session,
        actor=actor,
        release_id=release_id,
        token=token,
        recordings_dir=recordings_dir,
        now=now,
        client=client,
        keys=keys,
        offsite=offsite,
    )
    await session.execute(update(Release).where(Release.id == release_id).values(token_sealed=None))
    return listening
