"""A training copy of a real call on the real Asterisk (issue 12 §2, seed 003 §9): the caller
and the staff phone play different tones; in the copy the caller's 440 Hz is gone, the
agent's tone stays, and the marked span is silent by RMS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from callrec_ari.access import Actor, Role
from callrec_ari.db.models import TrainingCopy
from callrec_ari.db.session import create_engine, create_session_factory
from callrec_ari.recording.legs import caller_audio
from callrec_ari.records import Consent, RecordingStatus
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.sipp import AUDIO_PCAP, CallerScript, SippAgent
from callrec_ari.sandbox.tones import tone_pcap
from callrec_ari.training.library import make_copy
from tests.acceptance.conftest import AGENT_HZ, QUICK_DID, acceptance_config
from tests.acceptance.test_outbound import running
from tests.support.audio import read_samples, rms_dbfs, strongest_tone, tone_power

pytestmark = pytest.mark.asterisk

CALLER_HZ = 440.0
SPAN = (1.5, 2.5)  # seconds into the recording: silenced in both voices
SUPERVISOR = Actor.of("super-jan", Role.SUPERVISOR)


def training_line(asterisk: AsteriskSandbox, tmp_path: Path) -> dict[str, Any]:
    """The acceptance config whose quick line is recorded for training too, with the
    library in ``tmp_path``."""
    data = acceptance_config(asterisk, tmp_path)
    [quick] = [route for route in data["route"] if route["dids"] == [QUICK_DID]]
    quick["purposes"] = ["service_quality", "training"]
    data["training"] = {"dir": str(tmp_path / "training")}
    return data


def interior_silence(samples: list[int] | Any) -> tuple[int, int]:
    """The longest run of digital silence that neither starts nor ends the copy (those are
    the random padding): its first sample and its length."""
    best, start = (0, 0), None
    for index, sample in enumerate(samples):
        if sample == 0:
            start = index if start is None else start
            continue
        if start is not None and start > 0 and index - start > best[1]:
            best = (start, index - start)
        start = None
    return best


async def test_a_training_copy_of_a_real_call_hides_the_caller_and_silences_the_span(
    tone_agent: SippAgent, asterisk: AsteriskSandbox, tmp_path: Path
):
    """One call, then a disguised copy with one span marked: 440 Hz at most a thousandth of
    the caller leg's, a shifted tone in its place, the agent's tone kept, the span's second
    digitally silent."""
    async with running(asterisk, tmp_path, training_line(asterisk, tmp_path)) as service:
        script = CallerScript(
            did=QUICK_DID,
            caller="48227100002",
            wait_ms=service.listen_ms(QUICK_DID),
            talk_ms=5000,
            audio_pcap=tone_pcap(AUDIO_PCAP, tmp_path / "caller-tone.pcap", CALLER_HZ),
        )
        result = await service.call(script)
        assert result.ok, result.errors
        [row] = await service.settled()
        settings = service.settings
    assert (row.consent, row.recording_status) == (Consent.GIVEN, RecordingStatus.COMPLETE)
    assert row.recording_path is not None

    engine = create_engine(settings.database.url)
    try:
        sessions = create_session_factory(engine)
        async with sessions() as session, session.begin():
            made = await make_copy(
                session,
                actor=SUPERVISOR,
                uniqueid=row.uniqueid,
                topic="a caller asking about a repair",
                spans=f"{SPAN[0]}-{SPAN[1]}",
                caller="disguise",
                settings=settings,
                now=row.started_at,
                client=None,
            )
        async with sessions() as session:
            stored = await session.scalar(select(TrainingCopy).where(TrainingCopy.id == made.id))
    finally:
        await engine.dispose()
    assert stored is not None

    caller = read_samples(caller_audio(settings.recording.service_dir, row.recording_path))
    copy = read_samples(settings.training.dir / stored.file)
    start, length = interior_silence(copy)
    span_samples = int((SPAN[1] - SPAN[0]) * 8000)
    assert abs(length - span_samples) <= 80, (start, length)  # the span, to 10 ms
    assert rms_dbfs(copy[start : start + length]) < -60
    after = copy[start + length : start + length + 8000]
    assert rms_dbfs(after) > -40  # the call goes on, loud, after the span
    assert tone_power(caller, CALLER_HZ) > 1e5
    assert tone_power(copy, CALLER_HZ) < tone_power(caller, CALLER_HZ) / 1000
    assert tone_power(after, AGENT_HZ) > 1e5
    down, up = strongest_tone(after, 300, 360), strongest_tone(after, 540, 650)
    assert max(down[1], up[1]) > 1e5  # the caller, disguised
    assert len(copy) != len(caller)
