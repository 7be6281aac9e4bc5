"""Data keys wrapped by master keys: bound to their recording, unwrapped by any held key."""

from __future__ import annotations

import dataclasses
import secrets

import pytest

from callrec_ari.crypto.keys import LocalMasterKeys, MasterKey, new_data_key
from callrec_ari.errors import ConfigError, RecordingError

PATH = "2026/12/02/1764000000.1.wav"


def test_a_wrapped_key_unwraps_to_the_same_key():
    """Wrapping then unwrapping gives the data key back, under the current key's id."""
    keys = LocalMasterKeys(MasterKey(secrets.token_bytes(32)))
    data_key = new_data_key()
    wrapped = keys.wrap(data_key, PATH)
    assert wrapped.master_key_id == keys.current_id
    assert data_key not in wrapped.blob
    assert keys.unwrap(wrapped, PATH) == data_key


def test_a_wrapped_key_moved_to_another_recording_does_not_open():
    """The recording's path is bound in: a key row copied onto another path is refused."""
    keys = LocalMasterKeys(MasterKey(secrets.token_bytes(32)))
    wrapped = keys.wrap(new_data_key(), PATH)
    with pytest.raises(RecordingError, match="does not open"):
        keys.unwrap(wrapped, "2026/12/02/other.wav")


def test_a_previous_master_key_still_unwraps_and_an_unknown_one_is_named():
    """After a rotation the old key opens old rows; a key nobody holds is named by its id."""
    old, new = MasterKey(secrets.token_bytes(32)), MasterKey(secrets.token_bytes(32))
    wrapped = LocalMasterKeys(old).wrap(b"k" * 32, PATH)
    assert LocalMasterKeys(new, (old,)).unwrap(wrapped, PATH) == b"k" * 32
    with pytest.raises(RecordingError, match=old.key_id):
        LocalMasterKeys(new).unwrap(wrapped, PATH)


def test_a_changed_key_id_does_not_let_another_key_open_it():
    """A row claiming another master key's id fails to open, it is not misread."""
    one, two = MasterKey(secrets.token_bytes(32)), MasterKey(secrets.token_bytes(32))
    wrapped = LocalMasterKeys(one).wrap(b"k" * 32, PATH)
    forged = dataclasses.replace(wrapped, master_key_id=two.key_id)
    with pytest.raises(RecordingError):
        LocalMasterKeys(two, (one,)).unwrap(forged, PATH)


def test_key_ids_are_stable_and_never_show_the_key():
    """The id is derived from the key (same key, same id) and the key is not in its repr."""
    secret = secrets.token_bytes(32)
    key = MasterKey(secret)
    assert key.key_id == MasterKey(secret).key_id
    assert len(key.key_id) == 16
    assert secret.hex() not in repr(key)
    assert key.key_id != MasterKey(secrets.token_bytes(32)).key_id


def test_a_short_master_key_is_refused():
    """A master key of the wrong length is a configuration error."""
    with pytest.raises(ConfigError, match="32 bytes"):
        MasterKey(b"short")
