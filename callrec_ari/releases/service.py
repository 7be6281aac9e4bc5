"""Releasing a recording to a third party: asked for, decided by the director, downloaded once.

::

    pending ──approve──▶ approved ──download──▶ used
       │                    │
       └──refuse──▶ refused └──expires_at passes──▶ expired

A request names the recipient and the legal ground. The director may not decide a request
of their own (four eyes). Approval makes a one-time download token that is shown once: only
its SHA-256 is stored. The download is for the person who asked, before ``expires_at``,
once. Each step is added to the audit trail in the caller's transaction; the download is
also written to the copy register (``copies/register.py``) with the file's SHA-256.

An approved release past its ``expires_at`` is shown as expired whether or not its row
was updated yet: the row only changes when someone tries to use it.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from callrec_ari.access import (
    Actor,
    CallFacts,
    may_ask_release,
    may_decide_release,
)
from callrec_ari.audit import trail
from callrec_ari.calls.listen import Listening, playable
from callrec_ari.calls.search import visible_call
from callrec_ari.copies.register import CopyKind, Made, register
from callrec_ari.crypto.keys import MasterKeys
from callrec_ari.db.models import Call, Release
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError
from callrec_ari.reasons import is_blank, require_reason
from callrec_ari.recording.audio import sha256_of
from callrec_ari.records import RecordingStatus
from callrec_ari.rights.subject import facts
from callrec_ari.storage.recordings import Offsite

MAX_RECIPIENT = 256  # the releases.recipient column
MIN_LEGAL_GROUND = 10
MAX_TEXT = 2000
MAX_LIST = 500
# Any call an asker may play: used to ask whether someone's roles let them ask at all.
_ANY_CALL = CallFacts(agent=None, restricted=False)


class ReleaseStatus(enum.StrEnum):
    """Where a release stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True, kw_only=True)
class ReleaseView:
    """A release as staff see it (never its token)."""

    id: int
    uniqueid: str
    recipient: str
    legal_ground: str
    requested_by: str
    requested_at: datetime
    status: ReleaseStatus
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    expires_at: datetime | None
    downloaded_at: datetime | None

    @classmethod
    def of(cls, release: Release, uniqueid: str, now: datetime) -> ReleaseView:
        """The view of a stored row at ``now``."""
        return cls(
            id=release.id,
            uniqueid=uniqueid,
            recipient=release.recipient,
            legal_ground=release.legal_ground,
            requested_by=release.requested_by,
            requested_at=release.requested_at,
            status=_status(release, now),
            decided_by=release.decided_by,
            decided_at=release.decided_at,
            decision_note=release.decision_note,
            expires_at=release.expires_at,
            downloaded_at=release.downloaded_at,
        )


async def request_release(
    session: AsyncSession,
    *,
    actor: Actor,
    uniqueid: str,
    recipient: str,
    legal_ground: str,
    now: datetime,
    client: str | None,
) -> ReleaseView:
    """Ask the director to release a call's recording to ``recipient`` on ``legal_ground``.

    ``InputError`` for a missing recipient or a legal ground under 10 characters;
    ``NotFoundError`` if the call does not exist, is not theirs to see, or has no recording;
    ``ForbiddenError`` if their roles do not let them ask for this call.
    """
    who = _text(recipient, "recipient", limit=MAX_RECIPIENT)
    ground = _text(legal_ground, "legal ground", limit=MAX_TEXT)
    if len(ground) < MIN_LEGAL_GROUND:
        raise InputError(f"The legal ground is shorter than {MIN_LEGAL_GROUND} characters.")
    call = await visible_call(session, actor=actor, uniqueid=uniqueid)
    if not may_ask_release(actor, facts(call)):
        raise ForbiddenError(f"{actor.described} may not ask to release call {uniqueid!r}.")
    _require_recording(call)
    release = Release(
        call_id=call.id,
        recipient=who,
        legal_ground=ground,
        requested_by=actor.name,
        requested_at=now,
        status=ReleaseStatus.PENDING.value,
    )
    session.add(release)
    await session.flush()
    await trail.append(
        session,
        at=now,
        actor=actor.name,
        action="release.request",
        target=call.uniqueid,
        detail={"release": release.id, "recipient": who, "legal_ground": ground},
        client=client,
    )
    return ReleaseView.of(release, call.uniqueid, now)


async def decide_release(
    session: AsyncSession,
    *,
    actor: Actor,
    release_id: int,
    approve: bool,
    note: str | None,
    now: datetime,
    valid_hours: int,
    client: str | None,
) -> tuple[ReleaseView, str | None]:
    """Approve or refuse a pending release; on approval also the download token, shown once.

    ``ForbiddenError`` unless ``actor`` is the director; ``NotFoundError`` for an unknown
    release or, on approval, a recording that is gone; ``InputError`` for a release already
    decided, one they asked for themselves, or a refusal without a note. Whether the asker
    may still hear the call (it may have been restricted since) is checked at the download.
    """
    if not may_decide_release(actor):
        raise ForbiddenError(f"{actor.described} may not decide releases.")
    if valid_hours < 1:
        raise InputError(f"A release must stay valid at least 1 hour, not {valid_hours}.")
    why = None if is_blank(note) else (note or "").strip()
    if why is not None and len(why) > MAX_TEXT:
        raise InputError(f"The note is longer than {MAX_TEXT} characters.")
    if not approve and why is None:
        raise InputError("A refusal needs a note saying why.")
    release, call = await _get(session, release_id)
    if release.status != ReleaseStatus.PENDING:
        raise InputError(f"Release {release_id} was already decided ({_status(release, now)}).")
    if release.requested_by == actor.name:
        # Forbidden, not a mistake of input: four eyes, and the refusal is audited.
        raise ForbiddenError(f"Release {release_id} is your own request; another director decides.")
    token: str | None = None
    values: dict[str, object] = {"decided_by": actor.name, "decided_at": now, "decision_note": why}
    if approve:
        _require_recording(call)
        token = secrets.token_urlsafe(32)
        values |= {
            "status": ReleaseStatus.APPROVED.value,
            "token_sha256": _digest(token),
            "expires_at": now + timedelta(hours=valid_hours),
        }
    else:
        values["status"] = ReleaseStatus.REFUSED.value
    await _move(session, release, ReleaseStatus.PENDING, values)
    await trail.append(
        session,
        at=now,
        actor=actor.name,
        action="release.approve" if approve else "release.refuse",
        target=call.uniqueid,
        detail={"release": release.id, "note": why},
        client=client,
    )
    return ReleaseView.of(release, call.uniqueid, now), token


async def redeem_release(
    session: AsyncSession,
    *,
    actor: Actor,
    release_id: int,
    token: str,
    recordings_dir: Path,
    now: datetime,
    client: str | None,
    keys: MasterKeys | None = None,
    offsite: Offsite | None = None,
) -> Listening:
    """The recording of an approved release, for the person who asked for it, once.

    ``NotFoundError`` for an unknown release or a recording gone from disk; ``ForbiddenError``
    for anyone but the asker, a wrong token, an asker who may no longer play the call, or a
    release not approved, already used or expired. An expired release is
    marked so in the caller's transaction before the error is raised: it stays marked if the
    caller commits despite the error, and shows as expired either way.
    """
    release, call = await _get(session, release_id)
    if release.requested_by != actor.name:
        raise ForbiddenError(f"Only {release.requested_by} may download release {release_id}.")
    if not may_ask_release(actor, facts(call)):
        raise ForbiddenError(f"{actor.described} may no longer release call {call.uniqueid!r}.")
    stored = ReleaseStatus(release.status)
    # Refusals, not input mistakes: each is an attempt to take a copy without a live approval,
    # so it answers 403 and the web app audits it (``web/refusals.py``).
    if stored is ReleaseStatus.USED:
        when = release.downloaded_at.isoformat() if release.downloaded_at else "earlier"
        raise ForbiddenError(f"Release {release_id} was already downloaded ({when}).")
    if stored is not ReleaseStatus.APPROVED and stored is not ReleaseStatus.EXPIRED:
        raise ForbiddenError(f"Release {release_id} is {stored}, not approved.")
    if release.token_sha256 is None or not hmac.compare_digest(
        _digest(token), release.token_sha256
    ):
        raise ForbiddenError(f"The download token of release {release_id} is wrong.")
    if stored is ReleaseStatus.EXPIRED or release.expires_at is None or now >= release.expires_at:
        if stored is ReleaseStatus.APPROVED:
            await _move(session, release, stored, {"status": ReleaseStatus.EXPIRED.value})
        expired = release.expires_at.isoformat() if release.expires_at else "approval"
        raise ForbiddenError(f"This release expired at {expired}.")
    listening = await playable(session, call, recordings_dir, keys, offsite)
    async with listening.local_audio() as audio:
        digest = await asyncio.to_thread(sha256_of, audio)
    await _move(
        session,
        release,
        ReleaseStatus.APPROVED,
        {"status": ReleaseStatus.USED.value, "downloaded_at": now, "downloaded_by": actor.name},
    )
    await trail.append(
        session,
        at=now,
        actor=actor.name,
        action="release.download",
        target=call.uniqueid,
        detail={"release": release.id, "recipient": release.recipient},
        client=client,
    )
    await register(
        session,
        Made(
            call_id=call.id,
            uniqueid=call.uniqueid,
            kind=CopyKind.MIX,
            sha256=digest,
            recipient=release.recipient,
            purpose=release.legal_ground,
            release_id=release.id,
        ),
        actor=actor.name,
        now=now,
        client=client,
    )
    return listening


async def list_releases(
    session: AsyncSession,
    *,
    actor: Actor,
    status: ReleaseStatus | None,
    limit: int = 100,
    now: datetime | None = None,
) -> list[ReleaseView]:
    """Releases newest first: all of them for the director, their own for those who ask.

    ``ForbiddenError`` for anyone else. ``now`` tells approved releases from expired ones
    (default: the wall clock).
    """
    moment = now if now is not None else datetime.now(UTC)
    if not 1 <= limit <= MAX_LIST:
        raise InputError(f"The limit {limit} is out of range (1 to {MAX_LIST}).")
    query = select(Release, Call.uniqueid).join(Call, Call.id == Release.call_id)
    if not may_decide_release(actor):
        if not may_ask_release(actor, _ANY_CALL):
            raise ForbiddenError(f"{actor.described} may not see releases.")
        query = query.where(Release.requested_by == actor.name)
    if status is not None:
        query = query.where(_is(status, moment))
    rows = await session.execute(
        query.order_by(Release.requested_at.desc(), Release.id.desc()).limit(limit)
    )
    return [ReleaseView.of(release, uniqueid, moment) for release, uniqueid in rows]


def _require_recording(call: Call) -> None:
    """``NotFoundError`` unless the call has a complete recording that was not deleted."""
    if call.recording_status != RecordingStatus.COMPLETE or call.purged_at is not None:
        raise NotFoundError(f"Call {call.uniqueid!r} has no recording.")


async def _get(session: AsyncSession, release_id: int) -> tuple[Release, Call]:
    row = (
        await session.execute(
            select(Release, Call)
            .join(Call, Call.id == Release.call_id)
            .where(Release.id == release_id)
            .with_for_update(of=Release)
        )
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"Release {release_id} does not exist.")
    return row[0], row[1]


async def _move(
    session: AsyncSession, release: Release, expected: ReleaseStatus, values: dict[str, object]
) -> None:
    """Change the row only if it still has ``expected`` status: of two concurrent decisions
    or downloads, exactly one wins, on SQLite too (where ``FOR UPDATE`` does nothing)."""
    changed = await session.execute(
        update(Release)
        .where(Release.id == release.id, Release.status == expected.value)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if cast("CursorResult[Any]", changed).rowcount != 1:
        raise InputError(f"Release {release.id} was changed by someone else just now.")
    for key, value in values.items():
        # As loaded, not as a pending change: the UPDATE above already wrote it.
        set_committed_value(release, key, value)


def _status(release: Release, now: datetime) -> ReleaseStatus:
    stored = ReleaseStatus(release.status)
    if stored is ReleaseStatus.APPROVED and release.expires_at and now >= release.expires_at:
        return ReleaseStatus.EXPIRED
    return stored


def _is(status: ReleaseStatus, now: datetime) -> ColumnElement[bool]:
    """Rows whose status, as ``_status`` tells it at ``now``, is ``status``."""
    approved = Release.status == ReleaseStatus.APPROVED.value
    if status is ReleaseStatus.APPROVED:
        return and_(approved, Release.expires_at > now)
    if status is ReleaseStatus.EXPIRED:
        return or_(
            Release.status == ReleaseStatus.EXPIRED.value,
            and_(approved, Release.expires_at <= now),
        )
    return Release.status == status.value


def _text(value: str, what: str, *, limit: int) -> str:
    text = require_reason(value, what)
    if len(text) > limit:
        raise InputError(f"The {what} is longer than {limit} characters.")
    return text


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
