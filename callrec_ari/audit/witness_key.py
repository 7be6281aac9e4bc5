"""The key that signs witness records: one file outside the database, readable by us only.

The service makes it at first use (mode 0600). Checking witnesses only reads it: a new key
made then would call every genuine witness forged. Losing it leaves the old witness lines
uncheckable, so it belongs in the backups of the server's files (not the database's).
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from callrec_ari.errors import ConfigError

KEY_BYTES = 32


def load_or_create_key(path: Path) -> bytes:
    """The key in ``path``; a new random one is written there (mode 0600) if there is none."""
    try:
        # Apart from the open below: a file where the folder should be is FileExistsError too.
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"The audit witness key file {path} cannot be created: {exc.strerror}."
        ) from None
    try:
        # O_EXCL: the service and a cron job starting at once must not each write a key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigError(
            f"The audit witness key file {path} cannot be created: {exc.strerror}."
        ) from None
    else:
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(KEY_BYTES))
    return load_key(path)


def load_key(path: Path) -> bytes:
    """The key in ``path``, which must exist, be ours alone and hold ``KEY_BYTES`` bytes."""
    try:
        mode = path.stat().st_mode
        key = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"The audit witness key file {path} does not exist, so no witness can be checked."
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"The audit witness key file {path} cannot be read: {exc.strerror}."
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"The audit witness key file {path} is open to other users; chmod 600 it."
        )
    if len(key) != KEY_BYTES:
        raise ConfigError(
            f"The audit witness key file {path} must hold {KEY_BYTES} bytes; restore it from "
            "a backup."
        )
    return key
