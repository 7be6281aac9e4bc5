"""``[encryption]``: off by default, the master key from a 0600 file or the environment."""

from __future__ import annotations

import base64
import secrets
import tomllib
from pathlib import Path

import pytest

from callrec_ari.config import parse
from callrec_ari.config.encryption import ENV_MASTER_KEY, with_master_key
from callrec_ari.crypto.keys import key_id_of
from callrec_ari.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def example(**encryption: object) -> dict:
    """The example config with ``encryption`` as its [encryption] table (none if empty)."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data.pop("encryption", None)
    if encryption:
        data["encryption"] = encryption
    return data


def key_file(path: Path, mode: int = 0o600, size: int = 32) -> bytes:
    """Write a random key of ``size`` bytes to ``path`` with ``mode``; the key."""
    secret = secrets.token_bytes(size)
    path.write_bytes(secret)
    path.chmod(mode)
    return secret


def test_without_the_table_recordings_stay_plain_and_no_key_is_needed(tmp_path):
    """An install from before: encryption off, no key file looked for or made."""
    settings = parse(example(), {}, base_dir=tmp_path).encryption
    assert (settings.enabled, settings.master_keys, settings.key_file) == (False, None, None)
    assert with_master_key(settings) == settings
    assert not (tmp_path / "var").exists()


def test_the_example_turns_it_on_and_the_key_is_made_at_the_first_start_not_while_parsing(
    tmp_path,
):
    """Parsing writes nothing; the first start makes the key file, 0600, and reads it once."""
    settings = parse(example(enabled=True), {}, base_dir=tmp_path).encryption
    assert settings.enabled
    assert settings.master_keys is None
    assert not (tmp_path / "var" / "master.key").exists()
    started = with_master_key(settings)
    made = tmp_path / "var" / "master.key"
    assert made.stat().st_mode & 0o777 == 0o600
    assert started.master_keys is not None
    assert started.master_keys.current_id == key_id_of(made.read_bytes())
    again = parse(example(enabled=True), {}, base_dir=tmp_path).encryption
    assert again.master_keys == started.master_keys  # the same key at the next start


def test_a_key_file_open_to_others_is_refused_in_one_sentence(tmp_path):
    """Mode 0644 stops start-up with the file named and the fix."""
    key_file(tmp_path / "master.key", mode=0o644)
    with pytest.raises(ConfigError, match=r"master key file .* open to other users; chmod 600"):
        parse(example(enabled=True, key_file="master.key"), {}, base_dir=tmp_path)


def test_a_key_file_of_the_wrong_size_is_refused(tmp_path):
    """A key file that is not 32 bytes says how to make one."""
    key_file(tmp_path / "master.key", size=16)
    with pytest.raises(ConfigError, match="must hold 32 bytes"):
        parse(example(enabled=True, key_file="master.key"), {}, base_dir=tmp_path)


def test_the_environment_secret_wins_and_never_shows(tmp_path):
    """CALLREC_MASTER_KEY (base64) is used instead of a file and stays out of repr."""
    secret = secrets.token_bytes(32)
    env = {ENV_MASTER_KEY: base64.b64encode(secret).decode()}
    settings = parse(example(enabled=True), env, base_dir=tmp_path)
    assert settings.encryption.master_keys is not None
    assert settings.encryption.master_keys.current_id == key_id_of(secret)
    assert settings.encryption.key_file is None
    assert secret.hex() not in repr(settings)
    assert env[ENV_MASTER_KEY] not in repr(settings)
    with pytest.raises(ConfigError, match="not base64"):
        parse(example(enabled=True), {ENV_MASTER_KEY: "***"}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match="32 bytes"):
        parse(example(enabled=True), {ENV_MASTER_KEY: "c2hvcnQ="}, base_dir=tmp_path)


def test_previous_keys_still_unwrap(tmp_path):
    """previous_key_files are held for unwrapping; new keys are wrapped by key_file's."""
    current = key_file(tmp_path / "new.key")
    old = key_file(tmp_path / "old.key")
    keys = parse(
        example(enabled=True, key_file="new.key", previous_key_files=["old.key"]),
        {},
        base_dir=tmp_path,
    ).encryption.master_keys
    assert keys is not None
    assert keys.current_id == key_id_of(current)
    assert keys.holds(key_id_of(old))
    with pytest.raises(ConfigError, match="previous_key_files must be a list"):
        parse(example(enabled=True, previous_key_files="old.key"), {}, base_dir=tmp_path)
