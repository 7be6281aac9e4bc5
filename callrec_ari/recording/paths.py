"""Where a call's recording lives: one relative path, seen from Asterisk and from the service.

Asterisk and the service may see the recordings folder under different roots (a chroot, a
container volume), so only the relative path is stored and each side joins its own root.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path, PurePosixPath

from callrec_ari.errors import RecordingError

_SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,79}")


def safe_name(uniqueid: str) -> bool:
    """Whether ``uniqueid`` is used as the recording's file name as it is (else its hash)."""
    return _SAFE_NAME.fullmatch(uniqueid) is not None


def relative_path(uniqueid: str, started_at: datetime) -> PurePosixPath:
    """``YYYY/MM/DD/<uniqueid>.wav`` in UTC; an id unfit for a file name is replaced by its hash."""
    name = uniqueid if safe_name(uniqueid) else _digest(uniqueid)
    return PurePosixPath(started_at.strftime("%Y/%m/%d")) / f"{name}.wav"


def asterisk_path(root: PurePosixPath, relative: PurePosixPath) -> PurePosixPath:
    """The file as Asterisk's MixMonitor must write it."""
    return root / relative


def service_path(root: Path, relative: str | PurePosixPath) -> Path:
    """The file as the service reads it; refuses any path that would leave ``root``."""
    rel = PurePosixPath(relative)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise RecordingError(
            f"The recording path {str(relative)!r} is outside the recordings folder."
        )
    return root.joinpath(*rel.parts)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]
