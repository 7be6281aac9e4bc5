"""The key that signs and encrypts session cookies: one file, made once, readable by us only."""

from __future__ import annotations

from pathlib import Path

from callrec_ari.keyfile import KEY_BYTES, create_if_missing, read_key

__all__ = ["KEY_BYTES", "load_or_create_key"]

_WHAT = "session key file"


def load_or_create_key(path: Path) -> bytes:
    """The 32-byte key in ``path``; a new random one is written there (mode 0600) if missing.

    Rotating the key (deleting the file) signs everyone out, nothing else.
    """
    create_if_missing(path, _WHAT)
    return read_key(
        path, _WHAT, missing="and could not be made", remedy="delete it to make a new one"
    )
