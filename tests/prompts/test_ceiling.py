"""The 12 s ceiling: what every caller waits through, spoken at a natural pace."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from callrec_ari.config import load
from callrec_ari.profile.announcement import LANGUAGES
from callrec_ari.profile.announcement_example import EXAMPLE_PROFILE
from callrec_ari.prompts import build_prompts, prompt_duration
from callrec_ari.prompts.check import CEILING_SECONDS
from callrec_ari.prompts.compose import plan, write_texts
from callrec_ari.prompts.speech import voice
from tests.prompts.conftest import REPO_PROMPTS


def _composed(root: Path, decline_key: str | None) -> dict[tuple[str, str], float]:
    """The example configuration's announcements, composed and spoken; seconds per prompt."""
    settings = load(REPO_PROMPTS.parent / "config.example.toml", {})
    consent = dataclasses.replace(settings.consent, decline_key=decline_key)
    settings = dataclasses.replace(settings, consent=consent)
    write_texts(root, plan(settings, EXAMPLE_PROFILE).texts)
    built = build_prompts(root, decline_key=decline_key)
    return {(prompt.language, prompt.name): prompt.duration_seconds for prompt in built}


def test_every_language_is_heard_within_12_seconds_with_the_decline_key(tmp_path):
    """Announcement plus decline hint, built with espeak-ng, last at most 12.0 s in each of
    the five languages (they took 25 to 28 s before the texts were composed)."""
    seconds = _composed(tmp_path, "9")
    for language in LANGUAGES:
        heard = seconds[(language, "announcement")] + seconds[(language, "decline-hint")]
        assert heard <= CEILING_SECONDS, (language, heard)


def test_every_language_is_heard_within_12_seconds_without_a_decline_key(tmp_path):
    """Without a key the announcement says to hang up instead, and still fits the ceiling."""
    seconds = _composed(tmp_path, None)
    assert (LANGUAGES[0], "decline-hint") not in seconds
    for language in LANGUAGES:
        assert seconds[(language, "announcement")] <= CEILING_SECONDS, language


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_committed_prompts_are_heard_within_12_seconds(language):
    """The WAVs shipped in prompts/ (example profile, key 9) keep the ceiling too."""
    folder = REPO_PROMPTS / language
    heard = prompt_duration(folder / "announcement.wav") + prompt_duration(
        folder / "decline-hint.wav"
    )
    assert heard <= CEILING_SECONDS


@pytest.mark.parametrize("language", LANGUAGES)
def test_speech_is_not_sped_up_to_fit(language):
    """Every voice speaks at espeak-ng's own default pace, 175 on its words-a-minute scale
    (the long texts once needed 185 to 205)."""
    _, speed = voice(language)
    assert 150 <= speed <= 175
