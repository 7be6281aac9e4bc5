"""The key that signs and encrypts session cookies: one file, made once, readable by us only."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from callrec_ari.errors import ConfigError

KEY_BYTES = 32


def load_or_create_key(path: Path) -> bytes:
    """The 32-byte key in ``path``; a new random one is written there (mode 0600) if missing.

    Rotating the key (deleting the file) signs everyone out, nothing else.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # FileExistsError too: a file where the folder should be
        raise ConfigError(
            f"The folder {path.parent} for the session key file cannot be created: {exc.strerror}."
        ) from None
    try:
        # O_EXCL: two processes starting at once must not each write their own key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigError(
            f"The session key file {path} cannot be created: {exc.strerror}."
        ) from None
    else:
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(KEY_BYTES))
    try:
        mode = path.stat().st_mode
        key = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"The session key file {path} cannot be read: {exc.strerror}.") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"The session key file {path} is readable by others; chmod 600 it (or delete it "
            "to make a new one)."
        )
    if len(key) != KEY_BYTES:
        raise ConfigError(
            f"The session key file {path} must hold {KEY_BYTES} bytes; delete it to make a new one."
        )
    return key
