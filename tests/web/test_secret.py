"""The session key file: made once with mode 0600, and every way it can be wrong named."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from callrec_ari.errors import ConfigError
from callrec_ari.web.secret import KEY_BYTES, load_or_create_key


def test_the_key_is_made_once_readable_by_us_only(tmp_path: Path) -> None:
    """The first start writes a random key (0600); the next start reads the same key."""
    path = tmp_path / "var" / "web.key"
    key = load_or_create_key(path)
    assert len(key) == KEY_BYTES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key


def test_a_file_where_the_folder_should_be_is_named(tmp_path: Path) -> None:
    """A file in the folder's place: the key file is named, and its folder as the cause."""
    (tmp_path / "var").write_text("not a folder", encoding="utf-8")
    refused = r"^The session key file .*web.key cannot be created: its folder cannot be made"
    with pytest.raises(ConfigError, match=refused):
        load_or_create_key(tmp_path / "var" / "web.key")


def test_a_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    """A key others can read is refused, with the fix in the sentence."""
    path = tmp_path / "web.key"
    load_or_create_key(path)
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="is open to other users; chmod 600 it"):
        load_or_create_key(path)


def test_a_key_of_the_wrong_length_is_refused(tmp_path: Path) -> None:
    """A truncated key is refused rather than weakening every cookie."""
    path = tmp_path / "web.key"
    path.write_bytes(b"short")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match=f"must hold {KEY_BYTES} bytes"):
        load_or_create_key(path)
