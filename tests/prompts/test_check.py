"""`callrec prompts check`: what the texts and recordings fail to tell the caller."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from callrec_ari.config import Settings, load
from callrec_ari.profile.announcement_example import EXAMPLE_PROFILE
from callrec_ari.prompts.check import check_prompts
from callrec_ari.prompts.compose import plan, write_texts
from tests.prompts.conftest import LANGUAGES, REPO_PROMPTS, make_tone
from tests.support.audio import write_speech_like_wav


@pytest.fixture
def settings() -> Settings:
    """The example configuration: five languages, decline key 9."""
    return load(REPO_PROMPTS.parent / "config.example.toml", {})


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    """A copy of the committed prompts: texts and WAVs composed from the example profile."""
    root = tmp_path / "prompts"
    for language in LANGUAGES:
        shutil.copytree(REPO_PROMPTS / language, root / language)
    return root


def _messages(prompts: Path, settings: Settings) -> list[str]:
    return [str(finding) for finding in check_prompts(prompts, settings, EXAMPLE_PROFILE)]


def test_the_committed_prompts_say_what_the_profile_requires(prompts, settings):
    """Composed texts within the ceiling: nothing to report."""
    assert _messages(prompts, settings) == []


def test_a_hand_edited_text_without_the_controller_is_reported(prompts, settings):
    """Someone rewrote the Polish text as "Nasze biuro nagrywa..." : one sentence says the
    controller is not named, and nothing else is reported."""
    text = prompts / "pl" / "announcement.txt"
    text.write_text(
        text.read_text(encoding="utf-8").replace("Aurora Services", "Nasze biuro"),
        encoding="utf-8",
    )
    assert _messages(prompts, settings) == [
        "pl/announcement: The text does not name the controller, Aurora Services."
    ]


def test_a_text_without_the_notice_address_is_reported(prompts, settings):
    """The old wording ("on our website") does not say where the notice is."""
    (prompts / "en" / "announcement.txt").write_text(
        "Aurora Services records this call. Your rights are described on our website.\n",
        encoding="utf-8",
    )
    assert _messages(prompts, settings) == [
        "en/announcement: The text does not say where the full notice is (https://aurora.example)."
    ]


def test_the_written_address_counts_as_well_as_the_spoken_one(prompts, settings):
    """A text that writes aurora.example instead of spelling it out names the notice."""
    (prompts / "en" / "announcement.txt").write_text(
        "Aurora Services records this call. Details: aurora.example.\n", encoding="utf-8"
    )
    assert _messages(prompts, settings) == []


def test_a_studio_recording_without_transcript_cannot_be_verified(prompts, settings):
    """A recording is not read: without studio/announcement.txt it is reported as
    unverifiable, with the words it must say."""
    studio = prompts / "sv" / "studio"
    studio.mkdir()
    make_tone(studio / "announcement.mp3", seconds=2.0)
    [message] = _messages(prompts, settings)
    assert message.startswith(
        "sv/announcement: The studio recording cannot be verified without a transcript "
        "(studio/announcement.txt); it must say "
    )
    assert "Aurora Services spelar in samtalet" in message
    assert "Tryck 9" in message


def test_a_studio_transcript_is_checked_instead_of_the_text(prompts, settings):
    """With a transcript, the transcript is what is checked: here it names nobody."""
    studio = prompts / "fi" / "studio"
    studio.mkdir()
    make_tone(studio / "announcement.ogg", seconds=2.0)
    (studio / "announcement.txt").write_text(
        "Puhelu tallennetaan. Lisätietoja: aurora piste example.", encoding="utf-8"
    )
    assert _messages(prompts, settings) == [
        "fi/announcement: The studio recording's transcript does not name the controller, "
        "Aurora Services."
    ]


def test_a_decline_hint_recording_that_names_another_key_is_reported(prompts, settings):
    """The key is configured as 9; a studio hint whose transcript says "press star" is
    reported; "press nine" in words is accepted."""
    studio = prompts / "en" / "studio"
    studio.mkdir()
    make_tone(studio / "decline-hint.wav", seconds=1.0)
    transcript = studio / "decline-hint.txt"
    transcript.write_text("To refuse, press star.", encoding="utf-8")
    assert _messages(prompts, settings) == [
        "en/decline-hint: The studio recording's transcript does not name the decline key 9."
    ]
    transcript.write_text("To refuse, press nine.", encoding="utf-8")
    assert _messages(prompts, settings) == []


def test_a_language_over_the_ceiling_is_reported(prompts, settings):
    """An announcement of 11 s with its 2.3 s hint keeps Romanian callers 13.3 s."""
    write_speech_like_wav(prompts / "ro" / "announcement.wav", 11.0)
    [message] = _messages(prompts, settings)
    assert message.startswith("ro/announcement: The announcement and the decline-hint last 13.")
    assert message.endswith("s together, longer than the 12 s every caller may be kept waiting.")


def test_without_a_decline_key_the_hint_is_not_required(prompts, settings):
    """No key: the hint is neither checked nor counted, the announcement (composed to say
    "hang up") alone is."""
    for language in LANGUAGES:
        (prompts / language / "decline-hint.txt").unlink()
        (prompts / language / "decline-hint.wav").unlink()
    keyless = dataclasses.replace(
        settings, consent=dataclasses.replace(settings.consent, decline_key=None)
    )
    write_texts(prompts, plan(keyless, EXAMPLE_PROFILE).texts)
    assert _messages(prompts, keyless) == []


def test_without_a_profile_nothing_can_be_checked(prompts, settings):
    """A configuration with no [profile] is one finding, not a pass."""
    [finding] = check_prompts(prompts, settings, None)
    assert "no [profile]" in finding.message


def test_without_a_decline_key_an_announcement_that_never_says_hang_up_is_reported(
    prompts, settings
):
    """Texts composed while a key was configured say nothing about refusing once the key is
    removed: each language is reported until the texts are composed again."""
    keyless = dataclasses.replace(
        settings, consent=dataclasses.replace(settings.consent, decline_key=None)
    )
    messages = _messages(prompts, keyless)
    assert len(messages) == len(LANGUAGES)
    assert messages[0] == (
        "en/announcement: The text does not say how to refuse, and no decline key is "
        'offered: it must say "If you do not agree, please hang up."'
    )
