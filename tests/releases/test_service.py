"""Releases to third parties: asked, decided by another person, downloaded once before expiry."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest

from callrec_ari.access import Actor, Role
from callrec_ari.db.models import Release
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError
from callrec_ari.releases.service import ReleaseStatus, list_releases, redeem_release
from tests.calls.conftest import (
    ADMIN,
    AGENT,
    CLIENT,
    OTHER_AGENT,
    OTHER_DIRECTOR,
    OTHER_SUPERVISOR,
    SUPERVISOR,
    audit,
    set_call,
    snapshot,
)
from tests.releases.conftest import GROUND, RECIPIENT, VALID_HOURS, ask, decide, redeem
from tests.rights.conftest import DIRECTOR, DPO, NOW, recorded, unrecorded

PATH = "2026/11/24/c1.wav"


async def _refused(session_factory, error, action, match=None):
    """``action()`` fails with ``error`` and leaves every table as it was."""
    before = await snapshot(session_factory)
    with pytest.raises(error, match=match):
        await action()
    assert await snapshot(session_factory) == before


async def _row(session_factory, release_id):
    async with session_factory() as session:
        return await session.get(Release, release_id)


async def _approved(session_factory, store, recordings, asker=SUPERVISOR):
    await store(recorded(recordings, "c1"))
    asked = await ask(session_factory, asker)
    view, token = await decide(session_factory, asked.id, note="court order checked")
    assert token is not None
    return view, token


async def test_asked_approved_and_downloaded_once(session_factory, store, recordings):
    """The whole life: pending, approved with a token shown once, used; each step audited."""
    await store(recorded(recordings, "c1"))
    asked = await ask(session_factory)
    assert (asked.status, asked.uniqueid, asked.recipient, asked.legal_ground) == (
        ReleaseStatus.PENDING,
        "c1",
        RECIPIENT,
        GROUND,
    )
    assert (asked.requested_by, asked.requested_at, asked.expires_at) == ("super-jan", NOW, None)
    approved, token = await decide(session_factory, asked.id, note="court order checked")
    assert token is not None
    assert len(token) >= 43
    assert approved.status is ReleaseStatus.APPROVED
    assert (approved.decided_by, approved.decided_at) == ("director-ewa", NOW)
    assert approved.expires_at == NOW + timedelta(hours=VALID_HOURS)
    row = await _row(session_factory, asked.id)
    assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(vars(row))  # only the hash is kept
    later = NOW + timedelta(hours=1)
    listening = await redeem(session_factory, asked.id, token, recordings, now=later)
    assert listening.path == (recordings / PATH).resolve()
    assert (listening.uniqueid, listening.content_type) == ("c1", "audio/wav")
    row = await _row(session_factory, asked.id)
    assert (row.status, row.downloaded_at, row.downloaded_by) == ("used", later, "super-jan")
    entries = await audit(session_factory)
    assert [(e.action, e.actor, e.target, e.client) for e in entries] == [
        ("release.request", "super-jan", "c1", CLIENT),
        ("release.approve", "director-ewa", "c1", CLIENT),
        ("release.download", "super-jan", "c1", CLIENT),
        ("copy.out", "super-jan", "c1", CLIENT),
    ]
    assert json.loads(entries[0].detail) == {
        "release": asked.id,
        "recipient": RECIPIENT,
        "legal_ground": GROUND,
    }
    assert token not in " ".join(entry.detail for entry in entries)


async def test_the_token_works_once(session_factory, store, recordings):
    """A second download is refused and audited nowhere."""
    view, token = await _approved(session_factory, store, recordings)
    await redeem(session_factory, view.id, token, recordings)
    await _refused(
        session_factory,
        ForbiddenError,
        lambda: redeem(session_factory, view.id, token, recordings),
        "already downloaded",
    )


async def test_a_wrong_token_changes_nothing(session_factory, store, recordings):
    """Refused without a trace of success; the right token still works afterwards."""
    view, token = await _approved(session_factory, store, recordings)
    await _refused(
        session_factory,
        ForbiddenError,
        lambda: redeem(session_factory, view.id, token[:-1] + "x", recordings),
        "token",
    )
    await redeem(session_factory, view.id, token, recordings)


async def test_only_the_person_who_asked_downloads(session_factory, store, recordings):
    """Another supervisor, even with the right token, and the approving director are refused."""
    view, token = await _approved(session_factory, store, recordings)
    for actor in (OTHER_SUPERVISOR, DIRECTOR):
        await _refused(
            session_factory,
            ForbiddenError,
            lambda actor=actor: redeem(session_factory, view.id, token, recordings, actor),
        )


async def test_an_expired_release_is_refused_and_shown_expired(session_factory, store, recordings):
    """At expires_at the link is dead; the row says so once a caller commits the attempt."""
    view, token = await _approved(session_factory, store, recordings)
    expiry = NOW + timedelta(hours=VALID_HOURS)
    await _refused(
        session_factory,
        ForbiddenError,
        lambda: redeem(session_factory, view.id, token, recordings, now=expiry),
        f"^This release expired at {re.escape(expiry.isoformat())}",
    )
    async with session_factory() as session:
        (shown,) = await list_releases(session, actor=DIRECTOR, status=None, now=expiry)
    assert shown.status is ReleaseStatus.EXPIRED
    async with session_factory() as session, session.begin():
        with pytest.raises(ForbiddenError, match="expired"):
            await redeem_release(
                session,
                actor=SUPERVISOR,
                release_id=view.id,
                token=token,
                recordings_dir=recordings,
                now=expiry,
                client=CLIENT,
            )
    assert (await _row(session_factory, view.id)).status == "expired"
    with pytest.raises(ForbiddenError, match="expired"):
        await redeem(session_factory, view.id, token, recordings, now=NOW)
    assert [e.action for e in await audit(session_factory)] == [
        "release.request",
        "release.approve",
    ]


async def test_the_director_may_not_decide_their_own_request(session_factory, store, recordings):
    """Four eyes: a director who is also a supervisor asks; another director decides."""
    both = Actor.of("boss-ula", Role.DIRECTOR, Role.SUPERVISOR)
    await store(recorded(recordings, "c1"))
    asked = await ask(session_factory, both)
    await _refused(
        session_factory,
        ForbiddenError,
        lambda: decide(session_factory, asked.id, both),
        "own request",
    )
    _, token = await decide(session_factory, asked.id, OTHER_DIRECTOR)
    assert token is not None
    await redeem(session_factory, asked.id, token, recordings, both)


async def test_a_refusal_needs_a_note_and_makes_no_token(session_factory, store, recordings):
    """Refused with a reason: no token, nothing to download, the note kept and audited."""
    await store(recorded(recordings, "c1"))
    asked = await ask(session_factory)
    for note in (None, "   "):
        await _refused(
            session_factory,
            InputError,
            lambda note=note: decide(session_factory, asked.id, approve=False, note=note),
            "note",
        )
    view, token = await decide(session_factory, asked.id, approve=False, note=" no court order ")
    assert (view.status, view.decision_note, token) == (
        ReleaseStatus.REFUSED,
        "no court order",
        None,
    )
    assert (await _row(session_factory, asked.id)).token_sha256 is None
    await _refused(
        session_factory,
        ForbiddenError,
        lambda: redeem(session_factory, asked.id, "anything", recordings),
        "refused",
    )
    entry = (await audit(session_factory))[-1]
    assert (entry.action, json.loads(entry.detail)) == (
        "release.refuse",
        {"release": asked.id, "note": "no court order"},
    )


async def test_a_decision_is_final(session_factory, store, recordings):
    """Neither an approved nor a refused release can be decided again."""
    view, _ = await _approved(session_factory, store, recordings)
    for approve in (True, False):
        await _refused(
            session_factory,
            InputError,
            lambda approve=approve: decide(
                session_factory, view.id, OTHER_DIRECTOR, approve=approve, note="again"
            ),
            "already decided",
        )


async def test_only_the_director_decides(session_factory, store, recordings):
    """Supervisor, dpo and admin are forbidden; an unknown release is not found."""
    await store(recorded(recordings, "c1"))
    asked = await ask(session_factory)
    for actor in (OTHER_SUPERVISOR, DPO, ADMIN):
        await _refused(
            session_factory,
            ForbiddenError,
            lambda actor=actor: decide(session_factory, asked.id, actor),
        )
    await _refused(session_factory, NotFoundError, lambda: decide(session_factory, 999))


async def test_who_may_ask(session_factory, store, recordings):
    """Supervisor and dpo ask; agents and the admin may not; another's call is not found."""
    await store(recorded(recordings, "c1"))
    await ask(session_factory, DPO)
    for actor in (AGENT, ADMIN, DIRECTOR):
        await _refused(
            session_factory, ForbiddenError, lambda actor=actor: ask(session_factory, actor)
        )
    await _refused(session_factory, NotFoundError, lambda: ask(session_factory, OTHER_AGENT))
    await _refused(session_factory, NotFoundError, lambda: ask(session_factory, uniqueid="nothing"))


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"recipient": "  "}, "recipient is empty"),
        ({"recipient": "x" * 257}, "recipient is longer"),
        ({"legal_ground": "asked us"}, "legal ground is shorter"),
        ({"legal_ground": ""}, "legal ground is empty"),
    ],
)
async def test_a_request_names_recipient_and_legal_ground(
    session_factory, store, recordings, changes, match
):
    """Refused before anything is stored."""
    await store(recorded(recordings, "c1"))
    await _refused(session_factory, InputError, lambda: ask(session_factory, **changes), match)


async def test_only_a_kept_recording_can_be_released(session_factory, store, recordings):
    """No recording, or deleted since the request: not found, at asking and at approving."""
    await store(unrecorded("u1"), recorded(recordings, "c1"))
    await _refused(session_factory, NotFoundError, lambda: ask(session_factory, uniqueid="u1"))
    asked = await ask(session_factory)
    await set_call(session_factory, "c1", purged_at=NOW, recording_status="deleted")
    await _refused(session_factory, NotFoundError, lambda: decide(session_factory, asked.id))


async def test_a_file_gone_before_the_download_leaves_the_release_approved(
    session_factory, store, recordings
):
    """Not found, and still usable once the file is back."""
    view, token = await _approved(session_factory, store, recordings)
    kept = (recordings / PATH).read_bytes()
    (recordings / PATH).unlink()
    await _refused(
        session_factory, NotFoundError, lambda: redeem(session_factory, view.id, token, recordings)
    )
    (recordings / PATH).write_bytes(kept)
    await redeem(session_factory, view.id, token, recordings)


async def test_a_call_restricted_after_approval_is_downloaded_by_the_dpo_only(
    session_factory, store, recordings
):
    """The asker's right to hear the call is checked again at the download."""
    view, token = await _approved(session_factory, store, recordings)
    await set_call(session_factory, "c1", restricted_at=NOW, restricted_by="dpo-anna")
    await _refused(
        session_factory, ForbiddenError, lambda: redeem(session_factory, view.id, token, recordings)
    )
    asked = await ask(session_factory, DPO)
    _, dpo_token = await decide(session_factory, asked.id)
    await redeem(session_factory, asked.id, dpo_token, recordings, DPO)


async def test_lists_show_the_director_all_and_askers_their_own(session_factory, store, recordings):
    """Newest first; a status filter that knows expired from approved; others forbidden."""
    await store(recorded(recordings, "c1"))
    first = await ask(session_factory, SUPERVISOR)
    second = await ask(session_factory, DPO, now=NOW + timedelta(minutes=1))
    third = await ask(session_factory, SUPERVISOR, now=NOW + timedelta(minutes=2))
    await decide(session_factory, first.id)
    await decide(session_factory, second.id, approve=False, note="not needed")
    later = NOW + timedelta(hours=VALID_HOURS + 1)
    async with session_factory() as session:

        async def ids(actor, status=None, now=later):
            views = await list_releases(session, actor=actor, status=status, now=now)
            return [view.id for view in views]

        assert await ids(DIRECTOR) == [third.id, second.id, first.id]
        assert await ids(SUPERVISOR) == [third.id, first.id]
        assert await ids(DPO) == [second.id]
        assert await ids(DIRECTOR, ReleaseStatus.EXPIRED) == [first.id]
        assert await ids(DIRECTOR, ReleaseStatus.APPROVED) == []
        assert await ids(DIRECTOR, ReleaseStatus.APPROVED, NOW) == [first.id]
        assert await ids(DIRECTOR, ReleaseStatus.PENDING) == [third.id]
        assert await ids(DIRECTOR, ReleaseStatus.REFUSED) == [second.id]
        for actor in (AGENT, ADMIN):
            with pytest.raises(ForbiddenError):
                await ids(actor)
        with pytest.raises(InputError):
            await list_releases(session, actor=DIRECTOR, status=None, limit=0)
