"""Per-recording data keys, wrapped by a master key; the master keys behind one small interface.

Every recording gets a random 256-bit data key (``new_data_key``) that seals its mix and
both legs. The data key is stored only wrapped: AES-256-GCM under a master key, with the
recording's path as associated data, so a wrapped key copied onto another recording's row
does not open. The wrapped key and the master key's id live in the database
(``crypto/store.py``), never beside the files: deleting that row is the crypto-erasure.

``MasterKeys`` is what the rest of callrec asks; ``LocalMasterKeys`` holds the keys read
from a key file or the environment at start-up. A KMS would be another implementation
whose ``wrap`` and ``unwrap`` call out (then they would become async; today they are
microseconds of local work).

A master key's id is derived from the key itself (an HMAC of a fixed label), so it needs no
configuring, says nothing about the key, and a row can always tell which key wrapped it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from callrec_ari.crypto.format import KEY_BYTES
from callrec_ari.errors import ConfigError, RecordingError

_ID_LABEL = b"callrec master key id/1"
_WRAP_LABEL = b"callrec data key/1|"
_NONCE = 12


def new_data_key() -> bytes:
    """A fresh random 256-bit data key."""
    return secrets.token_bytes(KEY_BYTES)


def key_id_of(secret: bytes) -> str:
    """The id of the master key ``secret``: 16 hex digits derived from it."""
    return hmac.new(secret, _ID_LABEL, hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class MasterKey:
    """One master key and its derived id."""

    secret: bytes = field(repr=False)
    key_id: str = field(init=False)

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise ConfigError(f"A master key must be {KEY_BYTES} bytes, not {len(self.secret)}.")
        object.__setattr__(self, "key_id", key_id_of(self.secret))


@dataclass(frozen=True, kw_only=True)
class Wrapped:
    """A data key as the database keeps it."""

    master_key_id: str
    blob: bytes  # nonce, ciphertext and tag


class MasterKeys(Protocol):
    """Wraps new data keys with the current master key; unwraps with any key it holds."""

    @property
    def current_id(self) -> str:
        """The id of the key new data keys are wrapped with."""

    def holds(self, key_id: str) -> bool:
        """Whether a key wrapped under ``key_id`` can be unwrapped here."""

    def wrap(self, data_key: bytes, context: str) -> Wrapped:
        """``data_key`` wrapped with the current master key, bound to ``context``."""

    def unwrap(self, wrapped: Wrapped, context: str) -> bytes:
        """The data key; ``RecordingError`` if its master key is unknown or it does not open."""


class LocalMasterKeys:
    """Master keys held in memory: the current one, and earlier ones still able to unwrap."""

    def __init__(self, current: MasterKey, previous: tuple[MasterKey, ...] = ()) -> None:
        self._current = current
        self._keys = {key.key_id: key for key in (*previous, current)}

    def __eq__(self, other: object) -> bool:
        """The same current key and the same keys held (settings compare equal by value)."""
        if not isinstance(other, LocalMasterKeys):
            return NotImplemented
        return self._current == other._current and self._keys == other._keys

    def __hash__(self) -> int:
        """Hashed like the ids it holds."""
        return hash((self._current.key_id, frozenset(self._keys)))

    @property
    def current_id(self) -> str:
        """The id of the key new data keys are wrapped with."""
        return self._current.key_id

    @property
    def current(self) -> MasterKey:
        """The key new data keys are wrapped with."""
        return self._current

    def holds(self, key_id: str) -> bool:
        """Whether a key wrapped under ``key_id`` can be unwrapped here."""
        return key_id in self._keys

    def wrap(self, data_key: bytes, context: str) -> Wrapped:
        """``data_key`` wrapped with the current master key, bound to ``context``."""
        nonce = secrets.token_bytes(_NONCE)
        sealed = AESGCM(self._current.secret).encrypt(nonce, data_key, _aad(context))
        return Wrapped(master_key_id=self._current.key_id, blob=nonce + sealed)

    def unwrap(self, wrapped: Wrapped, context: str) -> bytes:
        """The data key; ``RecordingError`` if its master key is unknown or it does not open."""
        key = self._keys.get(wrapped.master_key_id)
        if key is None:
            raise RecordingError(
                f"The key of recording {context} is wrapped with master key "
                f"{wrapped.master_key_id}, which this configuration does not hold."
            )
        nonce, sealed = wrapped.blob[:_NONCE], wrapped.blob[_NONCE:]
        try:
            return AESGCM(key.secret).decrypt(nonce, sealed, _aad(context))
        except InvalidTag:
            raise RecordingError(
                f"The key of recording {context} does not open with master key "
                f"{wrapped.master_key_id}: the key row was changed or belongs to another file."
            ) from None


def _aad(context: str) -> bytes:
    return _WRAP_LABEL + context.encode("utf-8")
