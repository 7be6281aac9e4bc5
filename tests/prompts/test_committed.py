"""The WAVs committed in prompts/ play in Asterisk on a checkout without espeak-ng."""

from __future__ import annotations

import pytest

from callrec_ari.prompts import prompt_duration
from tests.prompts.conftest import LANGUAGES, NAMES, REPO_PROMPTS, peak_dbfs


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
    assert sorted(path.stem for path in folder.glob("*.wav")) == list(NAMES)
    assert sorted(path.stem for path in folder.glob("*.txt")) == list(NAMES)
