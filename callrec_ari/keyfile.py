"""Secret keys in files of their own: made once with mode 0600, refused when others can read
them. The web app's session key and the audit witness key are both kept this way."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from callrec_ari.errors import ConfigError

KEY_BYTES = 32


def create_if_missing(path: Path, what: str) -> None:
    """Write a new random key to ``path`` (mode 0600) unless a file is already there;
    ``what`` names the file in errors ("session key file")."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # FileExistsError too: a file where the folder should be
        raise ConfigError(
            f"The {what} {path} cannot be created: its folder cannot be made ({exc.strerror})."
        ) from None
    try:
        # O_EXCL: two processes starting at once must not each write their own key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise ConfigError(f"The {what} {path} cannot be created: {exc.strerror}.") from None
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_bytes(KEY_BYTES))


def read_key(path: Path, what: str, *, missing: str, remedy: str) -> bytes:
    """The key in ``path``, which must exist, be ours alone and hold ``KEY_BYTES`` bytes.
    ``missing`` ends the sentence for a missing file, ``remedy`` the one for a bad size."""
    try:
        mode = path.stat().st_mode
        key = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"The {what} {path} does not exist, {missing}.") from None
    except OSError as exc:
        raise ConfigError(f"The {what} {path} cannot be read: {exc.strerror}.") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"The {what} {path} is open to other users; chmod 600 it.")
    if len(key) != KEY_BYTES:
        raise ConfigError(f"The {what} {path} must hold {KEY_BYTES} bytes; {remedy}.")
    return key
