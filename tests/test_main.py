"""The ``callrec`` command line: clear errors, migrations, and printing rows."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import tomli_w

from callrec_ari.__main__ import main

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def write_config(tmp_path: Path, **changes: dict[str, object]) -> Path:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["database"]["url"] = f"sqlite+aiosqlite:///{tmp_path / 'db' / 'callrec.sqlite3'}"
    for table, values in changes.items():
        data[table].update(values)
    path = tmp_path / "callrec.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def test_a_missing_default_config_explains_what_to_do(tmp_path: Path, monkeypatch, capsys):
    """Without config.toml the command says how to make one, and exits 2."""
    monkeypatch.chdir(tmp_path)
    assert main(["run"]) == 2
    assert "copy config.example.toml to config.toml" in capsys.readouterr().err


def test_a_bad_config_key_is_one_line(tmp_path: Path, capsys):
    """A bad key stops the command with one sentence naming it."""
    config = write_config(tmp_path, consent={"decline_key": "99"})
    assert main(["migrate", "-c", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("callrec: Config key consent.decline_key")
    assert len(err.strip().splitlines()) == 1


def test_run_refuses_an_unmigrated_database(tmp_path: Path, capsys):
    """The service will not start on a database behind the migrations, and says what to run."""
    config = write_config(tmp_path)
    assert main(["run", "-c", str(config)]) == 2
    assert "run `callrec migrate` first" in capsys.readouterr().err


def test_migrate_then_calls_on_an_empty_database(tmp_path: Path):
    """`callrec migrate` creates the SQLite file and folder; `callrec calls` then prints nothing."""
    config = write_config(tmp_path)
    command = [sys.executable, "-m", "callrec_ari"]
    migrated = subprocess.run(
        [*command, "migrate", "-c", str(config)], capture_output=True, text=True, check=False
    )
    assert migrated.returncode == 0, migrated.stderr
    assert "database at revision" in migrated.stdout
    assert (tmp_path / "db" / "callrec.sqlite3").exists()
    listed = subprocess.run(
        [*command, "calls", "--json", "-c", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert [json.loads(line) for line in listed.stdout.splitlines()] == []


def test_unknown_commands_are_refused(capsys):
    """argparse's own error for a command that does not exist."""
    with pytest.raises(SystemExit) as exit_info:
        main(["record-everything"])
    assert exit_info.value.code == 2


def test_prompts_build_then_install_through_the_command(tmp_path: Path, capsys):
    """`prompts build` says the configured key; `prompts install` puts WAVs where Asterisk looks."""
    source = tmp_path / "prompts"
    shutil.copytree(EXAMPLE.parent / "prompts" / "en", source / "en")
    hint_before = (source / "en" / "decline-hint.wav").read_bytes()
    config = write_config(
        tmp_path,
        consent={"decline_key": "#"},
        prompts={"source_dir": str(source), "sounds_dir": str(tmp_path / "sounds")},
    )
    assert main(["prompts", "build", "-c", str(config)]) == 0
    assert "en/announcement.wav" in capsys.readouterr().out
    assert (source / "en" / "decline-hint.wav").read_bytes() != hint_before  # "press hash"
    assert main(["prompts", "install", "-c", str(config)]) == 0
    installed = sorted(p.name for p in (tmp_path / "sounds" / "en" / "callrec").iterdir())
    assert installed == [
        "agent-tone.wav",  # the beep an agent who takes a call over hears (no text)
        "announcement.wav",
        "decline-hint.wav",
        "declined.wav",
        "not-recorded.wav",
    ]


def test_prompts_build_composes_then_check_reports_a_hand_edit(tmp_path: Path, capsys):
    """`prompts build` writes the profile's texts before speaking them; a hand edit that
    drops the controller makes `prompts check` print one sentence and exit 1."""
    source = tmp_path / "prompts"
    shutil.copytree(EXAMPLE.parent / "prompts" / "en", source / "en")
    (source / "en" / "announcement.txt").write_text("Our customer service records.\n")
    default_route = {"languages": ["en"], "prompt": "announcement", "retention": "months-6"}
    config = write_config(
        tmp_path,
        prompts={"source_dir": str(source), "sounds_dir": str(tmp_path / "sounds")},
        default_route=default_route,
    )
    data = tomllib.loads(config.read_text(encoding="utf-8"))
    data["route"] = []  # one English line only: the check reads en alone
    config.write_text(tomli_w.dumps(data), encoding="utf-8")

    assert main(["prompts", "build", "-c", str(config)]) == 0
    assert "en/announcement.txt  composed from the profile" in capsys.readouterr().out
    assert (source / "en" / "announcement.txt").read_text().startswith("Aurora Services")
    assert main(["prompts", "check", "-c", str(config)]) == 0
    assert "Every announcement names the controller" in capsys.readouterr().out

    (source / "en" / "announcement.txt").write_text("We record. Details: aurora.example.\n")
    assert main(["prompts", "check", "-c", str(config)]) == 1
    assert capsys.readouterr().out == (
        "en/announcement: The text does not name the controller, Aurora Services.\n"
    )
    assert main(["prompts", "build", "--as-written", "-c", str(config)]) == 0
    assert (source / "en" / "announcement.txt").read_text().startswith("We record.")


def test_prompts_install_says_where_a_linked_language_really_went(tmp_path: Path, capsys):
    """Through Debian's absolute en link inside Asterisk's root (asterisk_root), the command
    prints the folder the files really went to; a dangling link is one line, no traceback."""
    source = tmp_path / "prompts"
    shutil.copytree(EXAMPLE.parent / "prompts" / "en", source / "en")
    root = tmp_path / "chroot"
    sounds = root / "usr/share/asterisk/sounds"
    (sounds / "en_US_f_Allison").mkdir(parents=True)
    (root / "etc/alternatives").mkdir(parents=True)
    (root / "etc/alternatives/asterisk-prompt-en").symlink_to(
        "/usr/share/asterisk/sounds/en_US_f_Allison"
    )
    (sounds / "en").symlink_to("/etc/alternatives/asterisk-prompt-en")
    prompts = {"source_dir": str(source), "sounds_dir": str(sounds)}

    outside = write_config(tmp_path, prompts=prompts)
    assert main(["prompts", "install", "-c", str(outside)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"callrec: Sound folder {sounds / 'en'} is a symbolic link to ")
    assert len(err.strip().splitlines()) == 1

    inside = write_config(tmp_path, prompts={**prompts, "asterisk_root": str(root)})
    assert main(["prompts", "install", "-c", str(inside)]) == 0
    out = capsys.readouterr().out
    real = sounds / "en_US_f_Allison" / "callrec"
    assert f"{real / 'announcement.wav'}\n" in out
    assert f"the prompts went to {real}\n" in out


def test_migrate_prints_every_path_resolved_against_the_config_folder(tmp_path: Path):
    """Relative paths are the config file's folder's, and `callrec migrate` says where each
    one is, from any working directory."""
    config = write_config(tmp_path, database={"journal_dir": "var/journal"})
    migrated = subprocess.run(
        [sys.executable, "-m", "callrec_ari", "migrate", "-c", str(config)],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )
    assert migrated.returncode == 0, migrated.stderr
    printed = dict(
        line.strip().split(": ", 1) for line in migrated.stdout.splitlines() if ": " in line
    )
    assert printed["journal"] == str(tmp_path / "var" / "journal")
    assert printed["prompt_versions"] == str(tmp_path / "var" / "journal" / "prompt-versions")
    assert printed["prompts"] == str(tmp_path / "prompts")  # source_dir "prompts": the config's
    assert printed["register"] == "/var/spool/asterisk/callrec/unrecorded-calls.log"
