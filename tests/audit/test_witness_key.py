"""The witness key file: made once (mode 0600), ours alone, never made when only checking."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from callrec_ari.audit.witness_key import KEY_BYTES, load_key, load_or_create_key
from callrec_ari.errors import ConfigError


def test_the_key_is_made_once_readable_by_its_owner_only(tmp_path: Path):
    """First use makes a random 32-byte key, mode 0600, in a new folder; later uses read it."""
    path = tmp_path / "var" / "audit-witness.key"
    key = load_or_create_key(path)
    assert len(key) == KEY_BYTES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key
    assert load_key(path) == key


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_a_key_open_to_others_is_refused_in_one_sentence(tmp_path: Path, mode: int):
    """A key group or world may read is refused, naming the file and the fix."""
    path = tmp_path / "audit-witness.key"
    load_or_create_key(path)
    path.chmod(mode)
    for loader in (load_key, load_or_create_key):
        with pytest.raises(ConfigError) as refused:
            loader(path)
        assert str(refused.value) == (
            f"The audit witness key file {path} is open to other users; chmod 600 it."
        )


def test_checking_never_makes_a_key(tmp_path: Path):
    """Without the key, checking stops with one sentence and leaves no new key behind."""
    path = tmp_path / "audit-witness.key"
    with pytest.raises(ConfigError, match=r"does not exist, so no witness can be checked\.$"):
        load_key(path)
    assert not path.exists()


def test_a_key_of_the_wrong_size_is_refused(tmp_path: Path):
    """A truncated key file is not used (it would call every witness forged)."""
    path = tmp_path / "audit-witness.key"
    path.write_bytes(b"short")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match=r"must hold 32 bytes; restore it from a backup\.$"):
        load_or_create_key(path)


def test_a_key_that_cannot_be_created_is_one_sentence(tmp_path: Path):
    """A folder where the key cannot be made is named with the reason."""
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^The audit witness key file .* cannot be created: "):
        load_or_create_key(blocker / "audit-witness.key")
