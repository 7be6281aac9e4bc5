"""Installing built prompts where Asterisk plays them as sound:callrec/<name>."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from callrec_ari.errors import PromptError
from callrec_ari.prompts import install_prompts, prompt_duration
from tests.prompts.conftest import INSTALLED, REPO_PROMPTS, make_tone


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
        sounds / language / "callrec" / f"{name}.wav"
        for language in ("en", "pl")
        for name in INSTALLED
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
        f"{name}.wav" for name in INSTALLED
    ]


def test_language_folder_that_was_never_built_is_refused(tmp_path):
    """A language with texts but no WAVs is an error, so no language goes silently missing."""
    (tmp_path / "prompts" / "de").mkdir(parents=True)
    (tmp_path / "prompts" / "de" / "announcement.txt").write_text("Hallo.", encoding="utf-8")
    with pytest.raises(PromptError, match="no built WAV files"):
        install_prompts(tmp_path / "prompts", tmp_path / "sounds")
    assert not (tmp_path / "sounds").exists()


def test_a_relative_language_link_is_followed_to_the_folder_asterisk_reads(built_dir, tmp_path):
    """sounds/en -> en_US_f_Allison: the files land in en_US_f_Allison/callrec, the link stays."""
    sounds = tmp_path / "sounds"
    (sounds / "en_US_f_Allison").mkdir(parents=True)
    (sounds / "en").symlink_to("en_US_f_Allison")

    installed = install_prompts(built_dir, sounds, languages=["en"])

    real = sounds / "en_US_f_Allison" / "callrec"
    assert installed == [real / f"{name}.wav" for name in INSTALLED]
    assert (sounds / "en").readlink() == Path("en_US_f_Allison")
    assert (sounds / "en" / "callrec" / "announcement.wav").read_bytes() == (
        built_dir / "en" / "announcement.wav"
    ).read_bytes()


def test_an_absolute_link_through_alternatives_is_read_inside_asterisks_root(built_dir, tmp_path):
    """Debian's en -> /etc/alternatives/asterisk-prompt-en, seen from outside a chroot whose
    root is ``asterisk_root``, leads to the chroot's en_US_f_Allison, not to the host's /etc."""
    root = tmp_path / "chroot"
    sounds = root / "usr/share/asterisk/sounds"
    (sounds / "en_US_f_Allison").mkdir(parents=True)
    (root / "etc/alternatives").mkdir(parents=True)
    (root / "etc/alternatives/asterisk-prompt-en").symlink_to(
        "/usr/share/asterisk/sounds/en_US_f_Allison"
    )
    (sounds / "en").symlink_to("/etc/alternatives/asterisk-prompt-en")

    installed = install_prompts(built_dir, sounds, asterisk_root=root)

    assert {path.parent for path in installed} == {
        sounds / "en_US_f_Allison" / "callrec",
        sounds / "pl" / "callrec",
    }


def test_an_absolute_link_within_the_hosts_own_root_is_followed(built_dir, tmp_path):
    """On a plain host (asterisk_root "/") an absolute link to a folder is simply followed."""
    real = tmp_path / "package" / "en_US_f_Allison"
    real.mkdir(parents=True)
    sounds = tmp_path / "sounds"
    sounds.mkdir()
    (sounds / "en").symlink_to(real)
    installed = install_prompts(built_dir, sounds, languages=["en"])
    assert {path.parent for path in installed} == {real / "callrec"}


def _no_files_under(folder: Path) -> bool:
    return not [path for path in folder.rglob("*") if path.is_file()]


def test_a_dangling_link_is_refused_in_one_sentence_naming_link_target_and_remedy(
    built_dir, tmp_path
):
    """An absolute link into /etc/alternatives seen from outside the chroot leads nowhere: no
    traceback, one sentence naming the link, its target and what to do; nothing installed."""
    sounds = tmp_path / "sounds"
    sounds.mkdir()
    (sounds / "en").symlink_to("/etc/alternatives/callrec-test-asterisk-prompt-en")

    with pytest.raises(PromptError) as error:
        install_prompts(built_dir, sounds)

    message = str(error.value)
    assert f"{sounds / 'en'} is a symbolic link to " in message
    assert "/etc/alternatives/callrec-test-asterisk-prompt-en" in message
    assert "leads nowhere" in message
    assert "[prompts] asterisk_root" in message
    assert message.count(". ") == 0
    assert message.endswith(".")
    assert (sounds / "en").is_symlink()
    assert _no_files_under(sounds)


def test_a_link_loop_is_refused_and_nothing_installed(built_dir, tmp_path):
    """en -> en2 -> en: one sentence saying it loops, and pl is not installed either."""
    sounds = tmp_path / "sounds"
    sounds.mkdir()
    (sounds / "en").symlink_to("en2")
    (sounds / "en2").symlink_to("en")
    with pytest.raises(PromptError, match=r"sounds/en is a symbolic link to en2 that loops"):
        install_prompts(built_dir, sounds)
    assert _no_files_under(sounds)


def test_a_link_to_a_file_is_refused(built_dir, tmp_path):
    """A language link that leads to a file names the file."""
    sounds = tmp_path / "sounds"
    sounds.mkdir()
    (sounds / "notes.txt").write_text("not a folder\n", encoding="utf-8")
    (sounds / "pl").symlink_to("notes.txt")
    with pytest.raises(PromptError, match=r"leads to the file .*notes\.txt, not a folder"):
        install_prompts(built_dir, sounds)


def test_a_broken_callrec_subfolder_link_is_refused_too(built_dir, tmp_path):
    """The callrec/ folder inside a language may be a link as well; a dangling one is named."""
    sounds = tmp_path / "sounds"
    (sounds / "pl").mkdir(parents=True)
    (sounds / "pl" / "callrec").symlink_to("../gone")
    with pytest.raises(PromptError, match=r"pl/callrec is a symbolic link to \.\./gone"):
        install_prompts(built_dir, sounds, languages=["pl"])


def test_prompt_duration_reads_the_length_of_a_telephone_wav(tmp_path):
    """A 1.5 s telephone WAV measures 1.5 s; a CD-quality one is refused."""
    assert prompt_duration(make_tone(tmp_path / "ok.wav", rate=8000, channels=1)) == 1.5
    with pytest.raises(PromptError, match="Asterisk needs 8000 Hz"):
        prompt_duration(make_tone(tmp_path / "cd.wav"))
