"""Which calls may become training copies, and who may mark them: each refusal is one
sentence, and a refused call leaves no file, no row and no ``training.made`` entry."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from callrec_ari.access import Actor, Role
from callrec_ari.config.encryption import with_master_key
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError, RecordingError
from callrec_ari.profile.edit import set_processing
from callrec_ari.profile.model import Processing, Purpose
from callrec_ari.recording.seal import Pending, Sealer
from callrec_ari.records import Consent, Direction, RecordingStatus
from callrec_ari.storage.uploads import UploadQueue
from callrec_ari.training import library
from tests.calls.conftest import set_call
from tests.rights.conftest import place_hold
from tests.support.audio import read_samples, tone_power
from tests.training.conftest import (
    AGENT_HZ,
    CLIENT,
    NOW,
    OTHER_DID,
    SUPERVISOR,
    audit,
    copy_rows,
    make,
    store,
    toned,
)


@pytest.fixture
def recordings(settings) -> Path:
    """The recordings folder of ``settings``."""
    return settings.recording.service_dir


async def nothing_made(sessions, settings) -> bool:
    """No row, no file in the library, no ``training.made`` in the trail."""
    library = settings.training.dir
    files = list(library.iterdir()) if library.exists() else []
    made = [entry for entry in await audit(sessions) if entry.action == "training.made"]
    return not await copy_rows(sessions) and not files and not made


@pytest.mark.parametrize("role", [Role.AGENT, Role.DPO, Role.DIRECTOR, Role.ADMIN, Role.TRAINER])
async def test_only_a_supervisor_marks_a_call(session_factory, settings, recordings, role):
    """The agent who took the call, the dpo, the director, the admin and the trainer: refused."""
    await store(session_factory, toned(recordings, "t1"))
    someone = Actor.of(f"someone-{role}", role, extension="agent100")
    with pytest.raises(ForbiddenError, match="may not mark calls for training"):
        await make(session_factory, settings, "t1", actor=someone)
    assert await nothing_made(session_factory, settings)


async def test_a_restricted_call_is_refused(session_factory, settings, recordings):
    """GDPR Art. 18: no new processing of a restricted call, by anyone."""
    await store(session_factory, toned(recordings, "t1"))
    await set_call(session_factory, "t1", restricted_at=NOW, restricted_by="dpo-anna")
    both = Actor.of("super-dpo", Role.SUPERVISOR, Role.DPO)
    with pytest.raises(ForbiddenError, match=r"^Call 't1' is restricted \(GDPR Art\. 18\)"):
        await make(session_factory, settings, "t1", actor=both)
    assert await nothing_made(session_factory, settings)


async def test_a_route_not_recorded_for_training_is_refused(session_factory, settings, recordings):
    """The Polish line tells callers of service quality, evidence and complaints only."""
    await store(session_factory, toned(recordings, "t1", dialled=OTHER_DID))
    with pytest.raises(
        ForbiddenError,
        match=r"^Calls to 5551000 are recorded for service_quality, evidence, complaints, "
        r"not for training",
    ):
        await make(session_factory, settings, "t1")
    assert await nothing_made(session_factory, settings)


async def test_an_outbound_call_follows_the_profile_s_purposes(
    session_factory, settings, recordings
):
    """Outbound routes have no processing of their own: the profile's lacks training."""
    await store(session_factory, toned(recordings, "t1", direction=Direction.OUTBOUND))
    with pytest.raises(ForbiddenError, match=r"^Outbound calls are recorded for service_quality"):
        await make(session_factory, settings, "t1")


async def test_the_admin_s_purposes_at_run_time_count(session_factory, settings, recordings):
    """Once the admin adds training to the Polish line's purposes, its calls may be marked."""
    await store(session_factory, toned(recordings, "t1", dialled=OTHER_DID))
    admin = Actor.of("admin-kim", Role.ADMIN)
    async with session_factory() as session, session.begin():
        await set_processing(
            session,
            by=admin,
            settings=settings,
            did=OTHER_DID,
            processing=Processing(
                purposes=(Purpose.SERVICE_QUALITY, Purpose.TRAINING), storage_country="PL"
            ),
            now=NOW,
        )
    made = await make(session_factory, settings, "t1")
    assert made.caller_voice == "disguised"


async def test_a_call_without_legs_is_refused(session_factory, settings, recordings):
    """Recorded before callrec kept the two voices apart: one sentence, nothing made."""
    await store(session_factory, toned(recordings, "t1", legs=False))
    with pytest.raises(
        RecordingError,
        match=r"^Call 't1' has no separate caller leg \(recorded before callrec kept the two "
        r"voices apart\): no training copy can be made of it\.$",
    ):
        await make(session_factory, settings, "t1")
    assert await nothing_made(session_factory, settings)


async def test_a_withdrawn_recording_is_refused(session_factory, settings, recordings):
    """The caller withdrew consent mid-call: there is nothing to copy, and it says why."""
    await store(
        session_factory,
        toned(
            recordings,
            "t1",
            consent=Consent.WITHDRAWN,
            withdrawn_at=NOW - timedelta(days=7),
            recording_status=RecordingStatus.DELETED,
        ),
    )
    with pytest.raises(NotFoundError, match="withdrew consent during call 't1'"):
        await make(session_factory, settings, "t1")


async def test_a_purged_or_missing_recording_is_refused(session_factory, settings, recordings):
    """No recording kept, or its file gone: not found."""
    await store(session_factory, toned(recordings, "t1"), toned(recordings, "t2"))
    await set_call(session_factory, "t1", purged_at=NOW, recording_status="deleted")
    (recordings / "2026/11/24/t2.wav").unlink()
    for uniqueid in ("t1", "t2"):
        with pytest.raises(NotFoundError, match=f"Call '{uniqueid}' has no recording"):
            await make(session_factory, settings, uniqueid)
    with pytest.raises(NotFoundError, match="Call 'nope' does not exist"):
        await make(session_factory, settings, "nope")
    assert await nothing_made(session_factory, settings)


async def test_a_legal_hold_does_not_matter(session_factory, settings, recordings):
    """The original is untouched by a copy: a held call may be marked."""
    await store(session_factory, toned(recordings, "t1"))
    await place_hold(session_factory, "PR/1", ["t1"])
    assert (await make(session_factory, settings, "t1")).id


@pytest.mark.parametrize(
    "case",
    [
        ("   ", "", "disguise", "The topic is empty"),
        ("x" * 201, "", "disguise", "The topic is longer than 200 characters"),
        (
            "greeting",
            "3-9",
            "disguise",
            r"The span '3-9' ends after the recording, which lasts 4\.0 s",
        ),
        ("greeting", "", "mute", "must be disguise or remove"),
    ],
)
async def test_bad_input_is_refused_before_anything_is_made(
    session_factory, settings, recordings, case
):
    """A blank or long topic, a span past the end, an unknown voice mode: one sentence each."""
    topic, spans, caller, message = case
    await store(session_factory, toned(recordings, "t1"))
    with pytest.raises(InputError, match=message):
        await make(session_factory, settings, "t1", topic=topic, spans=spans, caller=caller)
    assert await nothing_made(session_factory, settings)


async def test_a_copy_is_made_from_encrypted_legs_and_no_plain_leg_is_left(
    session_factory, settings, recordings
):
    """Sealed legs are decrypted for ffmpeg into a private folder that is gone afterwards;
    the copy holds the agent's tone as from plain legs."""
    settings = dataclasses.replace(settings, encryption=with_master_key(settings.encryption))
    record = toned(recordings, "s1", seconds=3.0)
    await store(session_factory, record)
    sealer = Sealer(
        recordings_dir=recordings,
        keys=settings.encryption.master_keys,
        sessions=session_factory,
        clock=lambda: NOW,
    )
    assert await sealer.seal(Pending(relative_path=record.recording_path, hashes={}))
    assert not list(recordings.rglob("*.wav"))

    await make(session_factory, settings, "s1", caller="remove")

    [row] = await copy_rows(session_factory)
    samples = read_samples(settings.training.dir / row.file)
    assert tone_power(samples, AGENT_HZ) > 1e5
    assert sorted(p.name for p in settings.training.dir.iterdir()) == [row.file]
    assert not list((recordings / "2026").rglob("*.wav"))  # the recording stays sealed


async def test_a_copy_is_made_from_legs_only_the_object_store_holds(
    session_factory, settings, recordings, offsite
):
    """Sealed and uploaded, nothing on disk: the legs are fetched and decrypted for ffmpeg;
    the copy holds the agent's tone, and no fetched or plain leg is left in the library."""
    settings = dataclasses.replace(settings, encryption=with_master_key(settings.encryption))
    record = toned(recordings, "s2", seconds=3.0)
    await store(session_factory, record)
    queue = UploadQueue(offsite.store, offsite.outbox, retry_min_seconds=0.05)
    sealer = Sealer(
        recordings_dir=recordings,
        keys=settings.encryption.master_keys,
        sessions=session_factory,
        clock=lambda: NOW,
        hand_over=queue.add_many,
    )
    assert await sealer.seal(Pending(relative_path=record.recording_path, hashes={}))
    task = asyncio.create_task(queue.run())
    try:
        await asyncio.wait_for(queue.wait_idle(), 30)
    finally:
        task.cancel()
    assert not [p for p in recordings.rglob("*") if p.is_file()]

    async with session_factory() as session, session.begin():
        await library.make_copy(
            session,
            actor=SUPERVISOR,
            uniqueid="s2",
            topic="a rude caller handled calmly",
            spans="",
            caller="remove",
            settings=settings,
            now=NOW,
            client=CLIENT,
            offsite=offsite,
        )

    [row] = await copy_rows(session_factory)
    samples = read_samples(settings.training.dir / row.file)
    assert tone_power(samples, AGENT_HZ) > 1e5
    assert sorted(p.name for p in settings.training.dir.iterdir()) == [row.file]
