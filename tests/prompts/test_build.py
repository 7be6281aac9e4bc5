"""Building telephone WAVs from texts and studio recordings."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from callrec_ari.errors import PromptError
from callrec_ari.prompts import BuiltPrompt, build_prompts, prompt_duration, speech_text
from tests.prompts.conftest import LANGUAGES, NAMES, REPO_PROMPTS, make_tone, peak_dbfs, wav_shape


def build_the_repository_texts(root: Path) -> list[BuiltPrompt]:
    """The repository's texts in all five languages, built with decline key 9."""
    for language in LANGUAGES:
        (root / language).mkdir()
        for text in (REPO_PROMPTS / language).glob("*.txt"):
            shutil.copy(text, root / language / text.name)
    return build_prompts(root, decline_key="9")


def test_every_language_is_spoken_into_telephone_wavs(tmp_path):
    """Each language's three texts become audible 8 kHz, 16-bit, mono WAVs beside the text,
    and every announcement lasts between 5 and 25 seconds (before the caller loses
    patience). One test: building them all takes seconds of espeak-ng and ffmpeg."""
    built_texts = build_the_repository_texts(tmp_path)
    assert sorted((p.language, p.name) for p in built_texts) == [
        (language, name) for language in LANGUAGES for name in NAMES
    ]
    for prompt in built_texts:
        assert prompt.source == "tts"
        assert prompt.path == prompt.path.parent.parent / prompt.language / f"{prompt.name}.wav"
        assert wav_shape(prompt.path) == (8000, 1, 2)
        assert peak_dbfs(prompt.path) == pytest.approx(-3.0, abs=0.2)
        assert prompt.duration_seconds == pytest.approx(prompt_duration(prompt.path))
        if prompt.name == "announcement":
            assert 5 <= prompt.duration_seconds <= 25, prompt


@pytest.mark.parametrize("suffix", ["mp3", "ogg", "flac"])
def test_studio_recording_wins_over_the_text(prompt_dir, suffix):
    """A 44.1 kHz stereo studio file is played instead of the text, as 8 kHz mono 16-bit."""
    studio = prompt_dir / "en" / "studio"
    studio.mkdir()
    make_tone(studio / f"announcement.{suffix}", seconds=2.0)

    [prompt] = build_prompts(prompt_dir, decline_key=None)

    assert prompt.source == "studio"
    assert wav_shape(prompt.path) == (8000, 1, 2)
    assert prompt.duration_seconds == pytest.approx(2.0, abs=0.1)
    assert peak_dbfs(prompt.path) == pytest.approx(-3.0, abs=0.2)


def test_float_wav_from_a_studio_keeps_its_level(prompt_dir):
    """A 32-bit float WAV is read as audio, not as integers, so its level is normalised."""
    studio = prompt_dir / "en" / "studio"
    studio.mkdir()
    make_tone(studio / "announcement.wav", rate=48000, codec="pcm_f32le", gain_db=-6)

    [prompt] = build_prompts(prompt_dir, decline_key=None)

    assert prompt.duration_seconds == pytest.approx(1.5, abs=0.05)
    assert peak_dbfs(prompt.path) == pytest.approx(-3.0, abs=0.2)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _garbage(path: Path) -> None:
    path.write_bytes(random.Random(7).randbytes(8192))  # noqa: S311 - noise, not a secret


def _silent(path: Path) -> None:
    make_tone(path, gain_db=-200)


def _short(path: Path) -> None:
    make_tone(path, seconds=0.2)


def _quiet(path: Path) -> None:
    make_tone(path, gain_db=-30)


@pytest.mark.parametrize(
    ("spoil", "complaint"),
    [
        (_empty, "is empty"),
        (_garbage, "is corrupt or not audio"),
        (_silent, "is silent"),
        (_short, "is too short"),
        (_quiet, "is too quiet"),
    ],
)
def test_bad_studio_file_is_refused_and_the_old_wav_kept(prompt_dir, spoil, complaint):
    """An empty, corrupt, silent, short or quiet file is named in the error; the WAV stays."""
    build_prompts(prompt_dir, decline_key=None)
    built = prompt_dir / "en" / "announcement.wav"
    before = built.read_bytes()
    (prompt_dir / "en" / "studio").mkdir()
    bad = prompt_dir / "en" / "studio" / "announcement.mp3"
    spoil(bad)

    with pytest.raises(PromptError, match=complaint) as error:
        build_prompts(prompt_dir, decline_key=None)

    assert str(bad) in str(error.value)
    assert built.read_bytes() == before
    assert sorted(path.name for path in (prompt_dir / "en").iterdir()) == [
        "announcement.txt",
        "announcement.wav",
        "studio",
    ]


def test_clipped_studio_file_is_built_with_a_warning(prompt_dir):
    """A recording that clips still plays, normalised, and the log says it clips."""
    studio = prompt_dir / "en" / "studio"
    studio.mkdir()
    make_tone(studio / "announcement.flac", gain_db=30)

    with capture_logs() as logs:
        [prompt] = build_prompts(prompt_dir, decline_key=None)

    assert peak_dbfs(prompt.path) == pytest.approx(-3.0, abs=0.2)
    [warning] = [log for log in logs if log["log_level"] == "warning"]
    assert warning["event"] == "prompt source clips"
    assert warning["file"] == str(studio / "announcement.flac")


@pytest.mark.parametrize(
    ("language", "key", "phrase"),
    [
        ("en", "*", "press star."),
        ("en", "#", "press hash."),
        ("pl", "*", "wciśnij gwiazdkę."),
        ("pl", "9", "wciśnij 9."),
        ("sv", "#", "Tryck fyrkant "),
        ("fi", "9", "painamalla numeroa 9."),
        ("fi", "*", "painamalla tähtimerkkiä."),
        ("ro", "#", "apăsați diez."),
    ],
)
def test_decline_hint_names_the_key_in_the_callers_language(language, key, phrase):
    """The decline key is spoken as a word the caller expects: star, gwiazdkę, fyrkant..."""
    text = speech_text(REPO_PROMPTS / language / "decline-hint.txt", decline_key=key)
    assert phrase in text
    assert "{key}" not in text


def test_decline_hint_is_built_only_with_a_decline_key(prompt_dir):
    """Without a decline key no hint is built; with one, another key sounds different."""
    hint = prompt_dir / "en" / "decline-hint.wav"
    (prompt_dir / "en" / "decline-hint.txt").write_text("Press {key}.", encoding="utf-8")

    assert [p.name for p in build_prompts(prompt_dir, decline_key=None)] == ["announcement"]
    assert not hint.exists()
    build_prompts(prompt_dir, decline_key="9")
    nine = hint.read_bytes()
    build_prompts(prompt_dir, decline_key="#")
    assert hint.read_bytes() != nine


def test_decline_hint_without_a_placeholder_is_refused(prompt_dir):
    """A hint text that never says which key to press is an error naming the file."""
    text = prompt_dir / "en" / "decline-hint.txt"
    text.write_text("Press a key.", encoding="utf-8")
    with pytest.raises(PromptError, match=r"\{key\}") as error:
        build_prompts(prompt_dir, decline_key="9")
    assert str(text) in str(error.value)


def test_empty_text_is_refused_before_anything_is_built(prompt_dir):
    """An empty text is an error naming the file, and no other prompt is rebuilt meanwhile."""
    (prompt_dir / "en" / "declined.txt").write_text("  \n", encoding="utf-8")
    with pytest.raises(PromptError, match="is empty") as error:
        build_prompts(prompt_dir, decline_key=None)
    assert "declined.txt" in str(error.value)
    assert not (prompt_dir / "en" / "announcement.wav").exists()


def test_language_without_a_voice_is_refused(prompt_dir):
    """A folder for a language espeak-ng cannot speak gives an error naming it."""
    (prompt_dir / "xx").mkdir()
    (prompt_dir / "xx" / "announcement.txt").write_text("Hello.", encoding="utf-8")
    with pytest.raises(PromptError, match="espeak-ng voice for 'xx'"):
        build_prompts(prompt_dir, decline_key=None)
    assert not (prompt_dir / "en" / "announcement.wav").exists()


def test_unknown_languages_and_keys_are_refused(prompt_dir):
    """Asking for a missing language folder or a key that is not DTMF fails at once."""
    with pytest.raises(PromptError, match="does not exist"):
        build_prompts(prompt_dir, decline_key=None, languages=["pl"])
    with pytest.raises(PromptError, match="not one DTMF key"):
        build_prompts(prompt_dir, decline_key="10")
