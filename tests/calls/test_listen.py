"""Playing a recording: a reason first, who may hear what, files only inside their folder."""

from __future__ import annotations

import json

import pytest

from callrec_ari.calls.listen import ReasonCategory, open_recording, recheck
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError
from callrec_ari.records import RecordingStatus
from tests.calls.conftest import (
    ADMIN,
    AGENT,
    CLIENT,
    OTHER_AGENT,
    SUPERVISOR,
    audit,
    set_call,
    snapshot,
)
from tests.rights.conftest import DPO, NOW, recorded, unrecorded

REASON = "customer complained about the tone"
PATH = "2026/11/24/c1.wav"


async def _open(session_factory, recordings, actor=SUPERVISOR, uniqueid="c1", **changes):
    arguments = {
        "reason": REASON,
        "category": "complaint",
        "min_reason": 10,
        **changes,
    }
    async with session_factory() as session, session.begin():
        return await open_recording(
            session,
            actor=actor,
            uniqueid=uniqueid,
            recordings_dir=recordings,
            now=NOW,
            client=CLIENT,
            **arguments,
        )


async def _refused(session_factory, recordings, error, match=None, **arguments):
    """The attempt fails with ``error`` and leaves every table as it was."""
    before = await snapshot(session_factory)
    with pytest.raises(error, match=match):
        await _open(session_factory, recordings, **arguments)
    assert await snapshot(session_factory) == before
    return before


async def test_playing_returns_the_file_and_audits_reason_and_category(
    session_factory, store, recordings
):
    """The path inside the folder, its size, the WAV type; one "play" entry."""
    await store(recorded(recordings, "c1"))
    listening = await _open(session_factory, recordings)
    assert listening.path == (recordings / PATH).resolve()
    assert listening.size_bytes == (recordings / PATH).stat().st_size
    assert (listening.uniqueid, listening.content_type) == ("c1", "audio/wav")
    (entry,) = await audit(session_factory)
    assert (entry.actor, entry.action, entry.target, entry.client, entry.at) == (
        "super-jan",
        "play",
        "c1",
        CLIENT,
        NOW,
    )
    assert json.loads(entry.detail) == {"reason": REASON, "category": "complaint"}


async def test_the_reason_is_audited_stripped(session_factory, store, recordings):
    """One "play" entry; the reason is stored without its surrounding blanks."""
    await store(recorded(recordings, "c1"))
    await _open(
        session_factory,
        recordings,
        reason=f"  {REASON}  ",
        category=ReasonCategory.DATA_SUBJECT,
    )
    (entry,) = await audit(session_factory)
    assert entry.action == "play"
    assert json.loads(entry.detail) == {"reason": REASON, "category": "data_subject"}


async def test_an_agent_plays_their_own_call_and_no_other(session_factory, store, recordings):
    """Another agent's call is not found, exactly as a call that does not exist."""
    await store(recorded(recordings, "c1"))
    await _open(session_factory, recordings, actor=AGENT)
    await _refused(session_factory, recordings, NotFoundError, actor=OTHER_AGENT)
    with pytest.raises(NotFoundError) as other:
        await _open(session_factory, recordings, actor=OTHER_AGENT)
    with pytest.raises(NotFoundError) as missing:
        await _open(session_factory, recordings, actor=OTHER_AGENT, uniqueid="nothing")
    assert str(other.value) == str(missing.value).replace("nothing", "c1")
    assert [entry.actor for entry in await audit(session_factory)] == ["agent-piotr"]


async def test_the_admin_sees_calls_but_never_hears_them(session_factory, store, recordings):
    """Forbidden, not "not found": the admin may see the call exists."""
    await store(recorded(recordings, "c1"))
    await _refused(session_factory, recordings, ForbiddenError, actor=ADMIN)


async def test_a_restricted_call_is_played_by_the_dpo_only(session_factory, store, recordings):
    """Supervisor and the answering agent are refused; the dpo plays it."""
    await store(recorded(recordings, "c1"))
    await set_call(session_factory, "c1", restricted_at=NOW, restricted_by="dpo-anna")
    await _refused(session_factory, recordings, ForbiddenError, actor=SUPERVISOR)
    await _refused(session_factory, recordings, ForbiddenError, actor=AGENT)
    await _open(session_factory, recordings, actor=DPO)
    assert [entry.actor for entry in await audit(session_factory)] == ["dpo-anna"]


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"reason": "too short"}, "shorter than 10"),
        ({"reason": "    a b     "}, "shorter than 10"),
        ({"reason": "x" * 1001}, "longer than 1000"),
        ({"category": "curiosity"}, "category"),
    ],
)
async def test_the_reason_must_be_given(session_factory, store, recordings, arguments, match):
    """A reason of at least ``min_reason`` characters (stripped) and a known category."""
    await store(recorded(recordings, "c1"))
    await _refused(session_factory, recordings, InputError, match=match, **arguments)


async def test_a_bad_reason_is_refused_before_the_call_is_looked_up(
    session_factory, store, recordings
):
    """An agent learns nothing about another's call from the reason check."""
    await store(recorded(recordings, "c1", agent="agent200"))
    with pytest.raises(InputError):
        await _open(session_factory, recordings, actor=AGENT, reason="short")


async def test_no_recording_is_not_found(session_factory, store, recordings):
    """Unrecorded, still recording, or deleted by retention: nothing to play."""
    await store(unrecorded("u1"), recorded(recordings, "c1"))
    await _refused(session_factory, recordings, NotFoundError, "no recording", uniqueid="u1")
    await set_call(session_factory, "c1", recording_status=RecordingStatus.RECORDING)
    await _refused(session_factory, recordings, NotFoundError, "no recording")
    await set_call(session_factory, "c1", recording_status="complete", purged_at=NOW)
    await _refused(session_factory, recordings, NotFoundError, "no recording")


async def test_a_missing_file_is_not_found(session_factory, store, recordings):
    """The row says complete but the file is gone."""
    await store(recorded(recordings, "c1"))
    (recordings / PATH).unlink()
    await _refused(session_factory, recordings, NotFoundError, r"^Call 'c1' has no recording\.$")


@pytest.mark.parametrize("stored", ["../outside.wav", "/etc/passwd", "2026/../../outside.wav"])
async def test_a_path_leaving_the_folder_is_never_followed(
    session_factory, store, recordings, stored
):
    """Even when a file is there: the service answers as if there were no recording."""
    await store(recorded(recordings, "c1"))
    (recordings.parent / "outside.wav").write_bytes(b"RIFF secret")
    await set_call(session_factory, "c1", recording_path=stored)
    await _refused(session_factory, recordings, NotFoundError, "no recording")


async def test_a_link_out_of_the_folder_is_never_followed(session_factory, store, recordings):
    """A symbolic link inside the folder pointing at a file outside it counts as missing."""
    await store(recorded(recordings, "c1"))
    outside = recordings.parent / "outside.wav"
    outside.write_bytes(b"RIFF secret")
    (recordings / PATH).unlink()
    (recordings / PATH).symlink_to(outside)
    await _refused(session_factory, recordings, NotFoundError, "no recording")


async def test_a_folder_where_the_file_should_be_is_not_a_recording(
    session_factory, store, recordings
):
    """Only regular files are served."""
    await store(recorded(recordings, "c1"))
    (recordings / PATH).unlink()
    (recordings / PATH).mkdir()
    await _refused(session_factory, recordings, NotFoundError, "no recording")


async def _recheck(session_factory, recordings, actor=SUPERVISOR, uniqueid="c1"):
    async with session_factory() as session, session.begin():
        return await recheck(session, actor=actor, uniqueid=uniqueid, recordings_dir=recordings)


async def test_the_recheck_follows_the_call_as_it_is_now(session_factory, store, recordings):
    """Allowed while nothing changed; restricted since: forbidden, unless the dpo; purged
    since: no recording. It writes nothing itself."""
    await store(recorded(recordings, "c1"))
    listening = await _recheck(session_factory, recordings)
    assert listening.path == (recordings / PATH).resolve()
    await set_call(session_factory, "c1", restricted_at=NOW)
    with pytest.raises(ForbiddenError, match="may not listen to call 'c1'"):
        await _recheck(session_factory, recordings)
    assert (await _recheck(session_factory, recordings, actor=DPO)).uniqueid == "c1"
    await set_call(session_factory, "c1", restricted_at=None, purged_at=NOW)
    with pytest.raises(NotFoundError, match="has no recording"):
        await _recheck(session_factory, recordings)
    assert await audit(session_factory) == []


async def test_the_recheck_uses_the_roles_it_is_given(session_factory, store, recordings):
    """An agent (a demoted supervisor) gets 'does not exist' for a colleague's call."""
    await store(recorded(recordings, "c1"))
    with pytest.raises(NotFoundError, match="does not exist"):
        await _recheck(session_factory, recordings, actor=OTHER_AGENT)
    with pytest.raises(ForbiddenError):
        await _recheck(session_factory, recordings, actor=ADMIN)
