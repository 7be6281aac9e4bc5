"""``[encryption]``: recordings encrypted at rest, and the master keys that wrap their keys.

Off unless ``enabled = true`` (an install from before keeps writing plain WAVs until its
operator turns it on; the example config turns it on). The master key comes from the
environment (``CALLREC_MASTER_KEY``, 32 bytes in base64) or from ``key_file`` (32 raw bytes, mode
0600). ``previous_key_files`` holds keys a rotation retired: they still unwrap the
recordings not yet re-wrapped. The keys are read once, here, into the settings; nothing
reads them again.

Parsing never writes a file: a ``key_file`` that does not exist yet is made (mode 0600) by
``with_master_key`` when the service or the web app starts, as the web app's session key is.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from callrec_ari.config.table import Table
from callrec_ari.crypto.keys import LocalMasterKeys, MasterKey
from callrec_ari.errors import ConfigError
from callrec_ari.keyfile import KEY_BYTES, create_if_missing, read_key

ENV_MASTER_KEY = "CALLREC_MASTER_KEY"
DEFAULT_KEY_FILE = "var/master.key"
_WHAT = "master key file"


@dataclass(frozen=True, kw_only=True)
class EncryptionSettings:
    """Whether new recordings are sealed, and the master keys (None: none configured)."""

    enabled: bool = False
    key_file: Path | None = None  # None when the key came from the environment
    master_keys: LocalMasterKeys | None = field(default=None, repr=False)
    # How often the service looks for closed recordings left plain (a crash, the database
    # down while sealing) and seals them; and how far back it looks.
    sweep_interval_seconds: float = 60.0
    sweep_lookback_hours: float = 48.0


def parse_encryption(table: Table, env: Mapping[str, str], base_dir: Path) -> EncryptionSettings:
    """Read ``[encryption]`` and, when it is on or names a key, the master keys."""
    enabled = table.get("enabled", bool, False)
    named = table.raw("key_file")
    previous_names = table.raw("previous_key_files") or []
    if not isinstance(previous_names, list) or not all(
        isinstance(name, str) for name in previous_names
    ):
        raise ConfigError(f"Config key {table.key('previous_key_files')} must be a list of paths.")
    interval = table.positive("sweep_interval_seconds", 60.0)
    lookback = table.positive("sweep_lookback_hours", 48.0)
    secret = env.get(ENV_MASTER_KEY)
    key_file: Path | None = None
    if secret:
        current = MasterKey(_from_env(secret))
    elif enabled or named is not None:
        key_file = base_dir / table.get("key_file", str, DEFAULT_KEY_FILE)
        if not key_file.exists():  # made at the first start (with_master_key)
            return EncryptionSettings(
                enabled=enabled,
                key_file=key_file,
                sweep_interval_seconds=interval,
                sweep_lookback_hours=lookback,
            )
        current = MasterKey(_read(key_file))
    else:
        return EncryptionSettings(sweep_interval_seconds=interval, sweep_lookback_hours=lookback)
    previous = tuple(MasterKey(_read(base_dir / name)) for name in previous_names)
    return EncryptionSettings(
        enabled=enabled,
        key_file=key_file,
        master_keys=LocalMasterKeys(current, previous),
        sweep_interval_seconds=interval,
        sweep_lookback_hours=lookback,
    )


def with_master_key(settings: EncryptionSettings) -> EncryptionSettings:
    """``settings`` with its master key, the ``key_file`` made (mode 0600) if it is missing;
    unchanged when the keys are loaded already or none is configured."""
    if settings.master_keys is not None or settings.key_file is None:
        return settings
    create_if_missing(settings.key_file, _WHAT)
    return replace(settings, master_keys=LocalMasterKeys(MasterKey(_read(settings.key_file))))


def require_master_keys(settings: EncryptionSettings) -> LocalMasterKeys:
    """The configured master keys for a command; ``ConfigError`` saying why there are none
    (the key file is missing or unreadable, or none is configured)."""
    if settings.master_keys is not None:
        return settings.master_keys
    if settings.key_file is not None:
        read_master_key(settings.key_file)  # says the file is missing, or why not
    raise ConfigError(
        "No master key is configured: set [encryption] key_file or CALLREC_MASTER_KEY."
    )


def read_master_key(path: Path) -> MasterKey:
    """The master key in the key file ``path`` (``callrec keys rotate --new-key-file``)."""
    return MasterKey(_read(path))


def _read(path: Path) -> bytes:
    return read_key(
        path,
        _WHAT,
        missing="and without it no encrypted recording can be played (restore it from backup)",
        remedy=f"make one with: head -c {KEY_BYTES} /dev/urandom > FILE; chmod 600 FILE",
    )


def _from_env(text: str) -> bytes:
    try:
        secret = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{ENV_MASTER_KEY} is not base64.") from None
    if len(secret) != KEY_BYTES:
        raise ConfigError(
            f"{ENV_MASTER_KEY} must hold {KEY_BYTES} bytes in base64, not {len(secret)}."
        )
    return secret
