"""The key that signs witness records: one file outside the database, readable by us only.

The service makes it at first use (mode 0600). Checking witnesses only reads it: a new key
made then would call every genuine witness forged. Losing it leaves the old witness lines
uncheckable, so it belongs in the backups of the server's files (not the database's).
"""

from __future__ import annotations

from pathlib import Path

from callrec_ari.keyfile import KEY_BYTES, create_if_missing, read_key

__all__ = ["KEY_BYTES", "load_key", "load_or_create_key"]

_WHAT = "audit witness key file"


def load_or_create_key(path: Path) -> bytes:
    """The key in ``path``; a new random one is written there (mode 0600) if there is none."""
    create_if_missing(path, _WHAT)
    return load_key(path)


def load_key(path: Path) -> bytes:
    """The key in ``path``, which must exist, be ours alone and hold ``KEY_BYTES`` bytes."""
    return read_key(
        path, _WHAT, missing="so no witness can be checked", remedy="restore it from a backup"
    )
