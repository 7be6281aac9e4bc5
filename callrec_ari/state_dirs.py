"""The folders callrec keeps its own state in, made (or refused in one sentence) at start-up.

The journal, the SQLite file, the web app's session key and the audit witness live where the
config says; a relative path is taken from the config file's folder. A config mounted into a
read-only folder (``/etc/callrec`` in a container) with relative paths would otherwise stop
the service deep inside with an ``OSError``; here the sentence names the key and the fix.
"""

from __future__ import annotations

import os
from pathlib import Path

from callrec_ari.config import Settings
from callrec_ari.errors import ConfigError

_SQLITE = "sqlite+aiosqlite:///"


def state_folders(settings: Settings) -> dict[str, Path]:
    """Every folder callrec writes its own state to, by the config key naming it."""
    folders = {
        "[database] journal_dir": settings.database.journal_dir,
        "[web] secret_key_file": settings.web.secret_key_file.parent,
        "[audit] witness_key_file": settings.audit.witness_key_file.parent,
        "[audit] witness_file": settings.audit.witness_file.parent,
    }
    url = settings.database.url
    if url.startswith(_SQLITE) and url != _SQLITE + ":memory:":
        folders["[database] url"] = Path(url.removeprefix(_SQLITE)).parent
    return folders


def prepare_state_folders(settings: Settings, *, config_dir: Path) -> None:
    """Create the state folders; ``ConfigError`` naming the key if one cannot be written."""
    for key, folder in state_folders(settings).items():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            problem = None if os.access(folder, os.W_OK | os.X_OK) else "not writable"
        except OSError as exc:
            problem = str(exc.strerror or exc)
        if problem is not None:
            raise ConfigError(
                f"Config key {key} needs the folder {folder}, which callrec cannot write "
                f"({problem}); relative paths are taken from the config file's folder "
                f"{config_dir}, so give an absolute path on a writable volume "
                "(in the container image: under /var/lib/callrec)."
            )
