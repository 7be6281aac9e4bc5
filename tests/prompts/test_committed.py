"""The WAVs committed in prompts/ play in Asterisk on a checkout without espeak-ng."""

from __future__ import annotations

import pytest

from callrec_ari.prompts import prompt_duration
from callrec_ari.prompts.beep import AGENT_TONE, beep_wav
from tests.prompts.conftest import INSTALLED, LANGUAGES, NAMES, REPO_PROMPTS, peak_dbfs


@pytest.mark.parametrize("language", LANGUAGES)
def test_committed_prompts_are_ready_for_asterisk(language):
    """Each language ships 8 kHz mono 16-bit prompts, audible, announcement 5 to 25 s long."""
    for name in NAMES:
        path = REPO_PROMPTS / language / f"{name}.wav"
        seconds = prompt_duration(path)
        assert peak_dbfs(path) == pytest.approx(-3.0, abs=0.2), path
        if name == "announcement":
            assert 5 <= seconds <= 25, path
        else:
            assert 1 <= seconds <= 15, path


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_committed_wav_has_its_text(language):
    """No WAV is left behind without the text it was spoken from, and no text lacks its WAV."""
    folder = REPO_PROMPTS / language
    assert sorted(path.stem for path in folder.glob("*.wav")) == list(INSTALLED)
    assert sorted(path.stem for path in folder.glob("*.txt")) == list(NAMES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_ships_the_agents_beep(language):
    """The agent's tone is the generated 0.4 s beep, 9 dB under full scale, in every language."""
    path = REPO_PROMPTS / language / f"{AGENT_TONE}.wav"
    assert path.read_bytes() == beep_wav()
    assert prompt_duration(path) == pytest.approx(0.4)
    assert peak_dbfs(path) == pytest.approx(-9.0, abs=0.1)
