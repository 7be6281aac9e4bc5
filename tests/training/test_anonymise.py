"""The anonymised audio: the ffmpeg command as data, then real ffmpeg runs on two tone legs,
measured: the marked span is silent, the caller's tone is gone (shifted or left out), the
agent's stays, the length differs, and the file carries no metadata."""

from __future__ import annotations

import random
import struct
import wave
from pathlib import Path

import pytest

from callrec_ari.errors import InputError, RecordingError
from callrec_ari.training.anonymise import (
    PAD_SECONDS,
    PITCH_DOWN,
    PITCH_UP,
    RATE,
    CallerVoice,
    Recipe,
    caller_voice,
    draw,
    ffmpeg_command,
    render,
)
from callrec_ari.training.spans import Span
from tests.support.audio import (
    read_samples,
    rms_dbfs,
    strongest_tone,
    tone_power,
    write_tone_wav,
)
from tests.training.conftest import AGENT_HZ, CALLER_HZ

SECONDS = 4.0
SPAN = Span(1.5, 2.5)
LOUD = 1e5  # tone_power of an 8000-amplitude sine is about 1.6e7; of nothing, about 0


@pytest.fixture
def legs(tmp_path: Path) -> tuple[Path, Path]:
    """A caller leg playing CALLER_HZ and an agent leg playing AGENT_HZ, four seconds each."""
    caller, agent = tmp_path / "c.caller.wav", tmp_path / "c.agent.wav"
    write_tone_wav(caller, CALLER_HZ, SECONDS)
    write_tone_wav(agent, AGENT_HZ, SECONDS)
    return caller, agent


def recipe(legs: tuple[Path, Path], *, pitch: float | None = 1.3, **changes: object) -> Recipe:
    """A recipe with known draws: pitch 1.3, 0.75 s before and 1.25 s after."""
    caller, agent = legs
    values: dict[str, object] = {
        "agent": agent,
        "caller": caller if pitch is not None else None,
        "pitch": pitch,
        "spans": (SPAN,),
        "lead_samples": 6000,
        "tail_samples": 10000,
    }
    return Recipe(**(values | changes))  # type: ignore[arg-type]


def test_the_disguise_command_shifts_pitch_and_formants_and_strips_metadata(legs, tmp_path):
    """One ffmpeg run: rubberband with formants shifted on the caller, the span silenced per
    sample, padding, 8 kHz 16-bit mono, no metadata, never overwriting."""
    command = ffmpeg_command(recipe(legs), tmp_path / "out.wav")
    graph = command[command.index("-filter_complex") + 1]
    assert command[0] == "ffmpeg"
    assert "-n" in command
    assert command[-1] == f"file:{tmp_path / 'out.wav'}"
    assert "rubberband=pitch=1.3000:formant=shifted:pitchq=quality" in graph
    assert graph.count("between(t,1.500,2.500)") == 2  # the caller before the shift, the mix
    assert "adelay=delays=6000S:all=1" in graph
    assert "apad=pad_len=10000" in graph
    for flag in (["-map_metadata", "-1"], ["-fflags", "+bitexact"], ["-flags:a", "+bitexact"]):
        at = command.index(flag[0])
        assert command[at : at + 2] == flag
    assert command[command.index("-c:a") + 1] == "pcm_s16le"


def test_the_remove_command_reads_the_agent_leg_alone(legs, tmp_path):
    """Without the caller's leg there is one input and nothing to shift."""
    command = ffmpeg_command(recipe(legs, pitch=None), tmp_path / "out.wav")
    assert command.count("-i") == 1
    assert command[command.index("-i") + 1] == f"file:{legs[1]}"
    assert "rubberband" not in " ".join(command)


def test_without_spans_nothing_is_silenced(legs, tmp_path):
    """No span, no aeval filter."""
    command = ffmpeg_command(recipe(legs, spans=()), tmp_path / "out.wav")
    assert "aeval" not in command[command.index("-filter_complex") + 1]


def test_each_copy_draws_its_own_voice_and_padding(legs):
    """The factor is up 1.25-1.45 or down 0.7-0.8, the padding 0.5-3 s at each end; both
    directions come up, and a removed caller has no factor."""
    rng = random.Random(7)  # noqa: S311 - seeded, so the draws repeat; the service uses secrets
    drawn = [draw(agent=legs[1], caller=legs[0], spans=(), rng=rng) for _ in range(40)]
    factors = [one.pitch for one in drawn if one.pitch is not None]
    assert len(factors) == 40
    assert all(
        PITCH_UP[0] <= f <= PITCH_UP[1] or PITCH_DOWN[0] <= f <= PITCH_DOWN[1] for f in factors
    )
    assert any(f > 1 for f in factors)
    assert any(f < 1 for f in factors)
    for one in drawn:
        for pad in (one.lead_samples, one.tail_samples):
            assert PAD_SECONDS[0] * RATE <= pad <= PAD_SECONDS[1] * RATE
    removed = draw(agent=legs[1], caller=None, spans=(SPAN,))
    assert (removed.pitch, removed.voice) == (None, CallerVoice.REMOVED)


@pytest.mark.parametrize(
    ("mode", "voice"),
    [("disguise", "disguised"), ("", "disguised"), (" REMOVE ", "removed")],
)
def test_the_voice_modes_a_person_types(mode, voice):
    """``disguise`` is the default; ``remove`` leaves the caller out."""
    assert caller_voice(mode) == voice


def test_an_unknown_voice_mode_is_refused():
    """Anything else is one sentence."""
    with pytest.raises(InputError, match="must be disguise or remove, not 'whisper'"):
        caller_voice("whisper")


async def test_a_disguised_copy_has_no_caller_tone_a_shifted_one_and_a_silent_span(legs, tmp_path):
    """Measured: 440 Hz is gone and 440 x 1.3 is there, the agent's 1150 Hz unchanged; the
    span is below -60 dBFS while the rest is loud; the copy is longer by its padding."""
    made = recipe(legs)
    out = tmp_path / "copy.wav"
    await render(made, out, limit_seconds=60)
    samples = read_samples(out)
    assert len(samples) == SECONDS * RATE + made.lead_samples + made.tail_samples

    lead = made.lead_samples
    spoken = samples[lead : lead + int(1.4 * RATE)]  # before the span
    silent = samples[lead + int(SPAN.start * RATE) : lead + int(SPAN.end * RATE)]
    assert rms_dbfs(silent) < -60
    assert rms_dbfs(spoken) > -30
    assert tone_power(spoken, CALLER_HZ) < LOUD / 1000
    hz, power = strongest_tone(spoken, 500, 650)
    assert abs(hz - CALLER_HZ * 1.3) <= 5
    assert power > LOUD / 10
    assert tone_power(spoken, AGENT_HZ) > LOUD
    assert rms_dbfs(samples[:lead]) == rms_dbfs(samples[-made.tail_samples :]) == float("-inf")


async def test_a_removed_caller_leaves_no_caller_tone_at_all(legs, tmp_path):
    """Only the agent is heard: no 440 Hz and nothing shifted from it either."""
    made = recipe(legs, pitch=None)
    out = tmp_path / "copy.wav"
    await render(made, out, limit_seconds=60)
    samples = read_samples(out)
    spoken = samples[made.lead_samples : made.lead_samples + int(1.4 * RATE)]
    assert tone_power(spoken, AGENT_HZ) > LOUD
    _, power = strongest_tone(spoken, 250, 700)
    # Nothing in the caller's range but the agent tone's own leakage (about 1e-4 of it).
    assert power < tone_power(spoken[:800], AGENT_HZ) / 1000
    assert len(samples) != SECONDS * RATE


async def test_the_copy_is_a_bare_wav(legs, tmp_path):
    """RIFF with a fmt and a data chunk only: no LIST, no encoder name, nothing else."""
    out = tmp_path / "copy.wav"
    await render(recipe(legs), out, limit_seconds=60)
    data = out.read_bytes()
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WAVE"
    chunks, at = [], 12
    while at < len(data):
        name, size = struct.unpack("<4sI", data[at : at + 8])
        chunks.append(name)
        at += 8 + size + size % 2
    assert chunks == [b"fmt ", b"data"]
    assert b"Lavf" not in data[:64]
    with wave.open(str(out), "rb") as wav:
        assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) == (RATE, 2, 1)


async def test_a_failed_run_is_one_sentence(legs, tmp_path):
    """A leg that is not there: RecordingError naming ffmpeg, and no file left."""
    missing = recipe(legs, agent=tmp_path / "gone.wav")
    out = tmp_path / "copy.wav"
    with pytest.raises(RecordingError, match=r"^ffmpeg could not make the training copy \("):
        await render(missing, out, limit_seconds=60)
    assert not out.exists()


async def test_an_overrun_is_stopped(legs, tmp_path):
    """ffmpeg past its time is killed and the refusal says so."""
    with pytest.raises(RecordingError, match="did not finish the training copy within 0 seconds"):
        await render(recipe(legs), tmp_path / "copy.wav", limit_seconds=0.001)
