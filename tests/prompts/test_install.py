"""Installing built prompts where Asterisk plays them as sound:callrec/<name>."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from callrec_ari.errors import PromptError
from callrec_ari.prompts import install_prompts, prompt_duration
from tests.prompts.conftest import NAMES, REPO_PROMPTS, make_tone


@pytest.fixture
def built_dir(tmp_path: Path) -> Path:
    """A built prompt folder with the committed English and Polish WAVs (and their texts)."""
    root = tmp_path / "prompts"
    for language in ("en", "pl"):
        shutil.copytree(REPO_PROMPTS / language, root / language)
    return root


def test_install_copies_every_language_where_asterisk_looks(built_dir, tmp_path):
    """Each WAV lands byte for byte in sounds/<lang>/callrec/<name>.wav, readable by all."""
    sounds = tmp_path / "sounds"

    installed = install_prompts(built_dir, sounds)

    expected = [
        sounds / language / "callrec" / f"{name}.wav" for language in ("en", "pl") for name in NAMES
    ]
    assert installed == expected
    for path in installed:
        source = built_dir / path.parent.parent.name / path.name
        assert path.read_bytes() == source.read_bytes()
        assert path.stat().st_mode & 0o777 == 0o644
    assert sorted(path.name for path in (sounds / "en").iterdir()) == ["callrec"]


def test_install_can_be_limited_to_some_languages(built_dir, tmp_path):
    """Only the languages asked for are installed."""
    sounds = tmp_path / "sounds"
    install_prompts(built_dir, sounds, languages=["pl"])
    assert sorted(path.name for path in sounds.iterdir()) == ["pl"]


@pytest.mark.parametrize(
    ("spoil", "complaint"),
    [
        (lambda path: make_tone(path, rate=44100, channels=2), "44100 Hz, 16-bit, 2 channel"),
        (lambda path: path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk"), "not a PCM WAV file"),
        (lambda path: path.write_bytes(b""), "is empty"),
    ],
)
def test_bad_wav_is_refused_and_nothing_installed_changes(built_dir, tmp_path, spoil, complaint):
    """A WAV Asterisk cannot play is named in the error and no installed file is touched."""
    sounds = tmp_path / "sounds"
    installed = install_prompts(built_dir, sounds)
    before = {path: path.read_bytes() for path in installed}
    bad = built_dir / "pl" / "declined.wav"
    # A valid change that comes first in order must wait for the bad file too.
    (built_dir / "en" / "announcement.wav").write_bytes(bad.read_bytes())
    spoil(bad)

    with pytest.raises(PromptError, match=complaint) as error:
        install_prompts(built_dir, sounds)

    assert str(bad) in str(error.value)
    assert {path: path.read_bytes() for path in installed} == before
    assert sorted(path.name for path in (sounds / "pl" / "callrec").iterdir()) == [
        f"{name}.wav" for name in NAMES
    ]


def test_language_folder_that_was_never_built_is_refused(tmp_path):
    """A language with texts but no WAVs is an error, so no language goes silently missing."""
    (tmp_path / "prompts" / "de").mkdir(parents=True)
    (tmp_path / "prompts" / "de" / "announcement.txt").write_text("Hallo.", encoding="utf-8")
    with pytest.raises(PromptError, match="no built WAV files"):
        install_prompts(tmp_path / "prompts", tmp_path / "sounds")
    assert not (tmp_path / "sounds").exists()


def test_prompt_duration_reads_the_length_of_a_telephone_wav(tmp_path):
    """A 1.5 s telephone WAV measures 1.5 s; a CD-quality one is refused."""
    assert prompt_duration(make_tone(tmp_path / "ok.wav", rate=8000, channels=1)) == 1.5
    with pytest.raises(PromptError, match="Asterisk needs 8000 Hz"):
        prompt_duration(make_tone(tmp_path / "cd.wav"))
