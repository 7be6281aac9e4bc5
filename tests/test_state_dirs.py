"""The folders callrec writes its state to: made at start, or one sentence naming the key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from callrec_ari.config import parse
from callrec_ari.errors import ConfigError
from callrec_ari.state_dirs import prepare_state_folders, state_folders

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def example_settings(config_dir: Path):
    """The example config as if it lay in ``config_dir`` (its relative paths from there)."""
    return parse(tomllib.loads(EXAMPLE.read_text(encoding="utf-8")), {}, base_dir=config_dir)


def test_the_example_configs_relative_state_lands_beside_it_and_is_made(tmp_path: Path):
    """var/journal, var/callrec.db's folder and the key files' folder, all under var/."""
    settings = example_settings(tmp_path)
    prepare_state_folders(settings, config_dir=tmp_path)
    folders = state_folders(settings)
    assert set(folders) == {
        "[database] journal_dir",
        "[database] url",
        "[web] secret_key_file",
        "[audit] witness_key_file",
        "[audit] witness_file",
    }
    assert (tmp_path / "var" / "journal").is_dir()
    assert all(folder.is_dir() and folder.is_relative_to(tmp_path) for folder in folders.values())


def test_a_folder_that_cannot_be_made_names_the_key_and_the_config_folder(tmp_path: Path):
    """A file where the var folder should be: one sentence naming the first key, the folder,
    and that relative paths come from the config's folder."""
    (tmp_path / "var").write_text("not a folder")
    with pytest.raises(ConfigError) as raised:
        prepare_state_folders(example_settings(tmp_path), config_dir=tmp_path)
    assert str(raised.value) == (
        f"Config key [database] journal_dir needs the folder {tmp_path}/var/journal, which "
        "callrec cannot write (Not a directory); relative paths are taken from the config "
        f"file's folder {tmp_path}, so give an absolute path on a writable volume (in the "
        "container image: under /var/lib/callrec)."
    )


def test_an_in_memory_database_has_no_folder(tmp_path: Path):
    """SQLite in memory: no folder for [database] url."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["database"]["url"] = "sqlite+aiosqlite:///:memory:"
    settings = parse(data, {}, base_dir=tmp_path)
    assert "[database] url" not in state_folders(settings)
