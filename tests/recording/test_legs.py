"""The caller's and the agent's legs beside the mix: their names, their measurement when the
recording settles, and their deletion when the caller withdraws."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from callrec_ari.errors import RecordingError
from callrec_ari.recording.finalise import marker_for, settle
from callrec_ari.recording.legs import (
    agent_leg,
    caller_audio,
    caller_leg,
    leg_files,
    legs_of,
    mix_of,
)
from callrec_ari.recording.withdrawal import discard, marker_path
from callrec_ari.records import RecordingStatus
from tests.support.audio import write_wav

MIX = "2026/12/02/1795514341.6.wav"


def left_in(folder: Path) -> list[str]:
    """The names of the files still in ``folder``."""
    return sorted(path.name for path in folder.iterdir())


def test_the_legs_are_named_beside_the_mix():
    """``<name>.caller.wav`` and ``<name>.agent.wav`` in the mix's day folder."""
    assert caller_leg(MIX) == "2026/12/02/1795514341.6.caller.wav"
    assert agent_leg(MIX) == "2026/12/02/1795514341.6.agent.wav"
    assert legs_of(MIX) == (caller_leg(MIX), agent_leg(MIX))


def test_a_leg_leads_back_to_its_mix_and_the_mix_is_no_leg():
    """Both legs name the mix they belong to; a mix or another file names none."""
    assert {mix_of(leg) for leg in legs_of(MIX)} == {MIX}
    assert mix_of(MIX) is None
    assert mix_of("2026/12/02/.caller.wav") is None
    assert mix_of("2026/12/02/1.6.wav.done") is None


@pytest.mark.parametrize("path", ["2026/12/02/1.6.caller.wav", "2026/12/02/1.6.mp3", ""])
def test_only_a_mix_has_legs(path: str):
    """A leg's own path or a file that is no WAV is refused, naming it."""
    with pytest.raises(RecordingError, match="not a call's mix"):
        legs_of(path)


def test_the_caller_only_audio_is_the_caller_leg_never_the_mix(tmp_path: Path):
    """With a caller leg, that file; without one, an error rather than the two-voice mix."""
    write_wav(tmp_path / MIX, 1.0)
    with pytest.raises(RecordingError, match="no caller-only audio"):
        caller_audio(tmp_path, MIX)
    write_wav(tmp_path / caller_leg(MIX), 1.0)
    assert caller_audio(tmp_path, MIX) == tmp_path / caller_leg(MIX)


def test_the_caller_only_audio_never_leaves_the_recordings_folder(tmp_path: Path):
    """A stored path that climbs out of the folder is refused, not followed."""
    with pytest.raises(RecordingError, match="outside the recordings folder"):
        caller_audio(tmp_path / "recordings", "../../etc/passwd.wav")


def recorded(folder: Path, *, legs: bool = True) -> Path:
    """A mix (and its legs) as MixMonitor leaves them, with the ``.done`` marker."""
    mix = folder / "call.wav"
    write_wav(mix, 2.0, b"\x10\x00")
    if legs:
        caller, agent = leg_files(mix)
        write_wav(caller, 2.0, b"\x20\x00")
        write_wav(agent, 2.0, b"\x30\x00")
    marker_for(mix).touch()
    return mix


async def test_settling_measures_each_leg_beside_the_mix(tmp_path: Path):
    """Each leg's size and SHA-256 are those of its own file, so any copy can be checked."""
    mix = recorded(tmp_path)
    settled = await settle(mix, wait_seconds=2, poll=0.01)
    assert settled.status == RecordingStatus.COMPLETE
    caller, agent = leg_files(mix)
    assert settled.caller_leg is not None
    assert settled.agent_leg is not None
    assert settled.caller_leg.sha256 == hashlib.sha256(caller.read_bytes()).hexdigest()
    assert settled.agent_leg.sha256 == hashlib.sha256(agent.read_bytes()).hexdigest()
    assert settled.caller_leg.size_bytes == caller.stat().st_size
    assert settled.agent_leg.size_bytes == agent.stat().st_size
    assert settled.facts is not None
    assert len({settled.facts.sha256, settled.caller_leg.sha256, settled.agent_leg.sha256}) == 3


async def test_a_mix_without_legs_is_still_complete(tmp_path: Path):
    """A call recorded before legs existed settles as before, its legs unknown."""
    mix = recorded(tmp_path, legs=False)
    settled = await settle(mix, wait_seconds=2, poll=0.01)
    assert settled.status == RecordingStatus.COMPLETE
    assert (settled.caller_leg, settled.agent_leg) == (None, None)


async def test_a_truncated_leg_is_unknown_and_the_mix_still_stands(tmp_path: Path):
    """A damaged leg gets no hash (none could be trusted); the mix is measured as usual."""
    mix = recorded(tmp_path)
    caller, _ = leg_files(mix)
    caller.write_bytes(caller.read_bytes()[:1000])
    settled = await settle(mix, wait_seconds=2, poll=0.01)
    assert settled.status == RecordingStatus.COMPLETE
    assert settled.caller_leg is None
    assert settled.agent_leg is not None


async def test_a_withdrawn_call_leaves_no_leg(tmp_path: Path):
    """The caller withdrew mid-call: the mix, both legs and all markers are gone."""
    mix = recorded(tmp_path)
    marker_path(mix).write_text("callrec-withdrawn/1|1.6|1795514353.847", encoding="ascii")
    settled = await settle(mix, wait_seconds=2, poll=0.01)
    assert settled.status == RecordingStatus.DELETED
    assert (settled.facts, settled.caller_leg, settled.agent_leg) == (None, None, None)
    assert left_in(tmp_path) == []


def test_discard_takes_legs_left_without_their_mix(tmp_path: Path):
    """Legs whose mix is already gone still count as audio and are deleted."""
    mix = recorded(tmp_path)
    mix.unlink()
    gone = discard(mix, marker_for(mix))
    assert gone.audio_existed
    assert left_in(tmp_path) == []
