"""The download token kept sealed on the release for the asker, opened once, then cleared."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet

from callrec_ari.db.models import Release
from callrec_ari.errors import ForbiddenError
from callrec_ari.releases.sealed import decide_and_seal, redeem_sealed
from callrec_ari.releases.service import ReleaseStatus
from tests.calls.conftest import CLIENT, SUPERVISOR
from tests.releases.conftest import VALID_HOURS, ask
from tests.rights.conftest import DIRECTOR, NOW, recorded

SEAL = Fernet(Fernet.generate_key())
LATER = NOW + timedelta(hours=1)


async def _decide(session_factory, release_id, *, approve=True, seal=SEAL):
    async with session_factory() as session, session.begin():
        return await decide_and_seal(
            session,
            seal=seal,
            actor=DIRECTOR,
            release_id=release_id,
            approve=approve,
            note="checked" if approve else "no legal ground",
            now=NOW,
            valid_hours=VALID_HOURS,
            client=CLIENT,
        )


async def _redeem(session_factory, release_id, recordings, *, seal=SEAL):
    async with session_factory() as session, session.begin():
        return await redeem_sealed(
            session,
            seal=seal,
            actor=SUPERVISOR,
            release_id=release_id,
            recordings_dir=recordings,
            now=LATER,
            client=CLIENT,
        )


async def _sealed(session_factory, release_id):
    async with session_factory() as session:
        release = await session.get(Release, release_id)
        return release.token_sealed


async def test_an_approval_is_sealed_then_downloaded_once_and_cleared(
    session_factory, store, recordings
):
    """The seal opens with the key only; the download uses it and the seal is gone."""
    await store(recorded(recordings, "c1"))
    asked = await ask(session_factory)
    approved = await _decide(session_factory, asked.id)
    assert approved.status is ReleaseStatus.APPROVED
    sealed = await _sealed(session_factory, asked.id)
    assert sealed is not None
    assert len(SEAL.decrypt(sealed.encode())) >= 43  # the token, only with the key
    listening = await _redeem(session_factory, asked.id, recordings)
    assert listening.uniqueid == "c1"
    assert await _sealed(session_factory, asked.id) is None
    with pytest.raises(ForbiddenError, match="already downloaded"):
        await _redeem(session_factory, asked.id, recordings)


async def test_a_refusal_seals_nothing(session_factory, store, recordings):
    """No token, no seal; a download attempt is refused as a release not approved."""
    await store(recorded(recordings, "c1"))
    asked = await ask(session_factory)
    refused = await _decide(session_factory, asked.id, approve=False)
    assert refused.status is ReleaseStatus.REFUSED
    assert await _sealed(session_factory, asked.id) is None
    with pytest.raises(ForbiddenError, match="refused, not approved"):
        await _redeem(session_factory, asked.id, recordings)


async def test_a_seal_made_with_another_key_opens_nothing(session_factory, store, recordings):
    """After a key change the old seal reads as a wrong token; nothing is changed."""
    await store(recorded(recordings, "c1"))
    asked = await ask(session_factory)
    await _decide(session_factory, asked.id)
    other = Fernet(Fernet.generate_key())
    with pytest.raises(ForbiddenError, match="token of release"):
        await _redeem(session_factory, asked.id, recordings, seal=other)
    assert await _sealed(session_factory, asked.id) is not None
