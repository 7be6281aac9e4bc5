"""This machine's pip settings, handed to an image build without writing them anywhere.

``pip config list`` shows every setting pip would use here (files and ``PIP_*`` variables);
the ones that say where packages come from become ``PIP_*`` build arguments, and each local
folder or file they name is mounted read-only under ``/run/pip-host`` in the build, with
the setting rewritten to point there. Nothing is stored in the repository or the image's
environment: a build on another machine passes that machine's own settings.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MOUNT_ROOT = PurePosixPath("/run/pip-host")
# Only the settings that decide where packages come from and how they are fetched.
KEYS = (
    "index-url",
    "extra-index-url",
    "find-links",
    "constraint",
    "trusted-host",
    "cert",
    "no-index",
    "default-timeout",
)
_PATH_KEYS = frozenset({"index-url", "extra-index-url", "find-links", "constraint", "cert"})
# pip reads its files in this order and the environment last; a later scope wins.
_SCOPES = ("global", "user", "site", ":env:")
_LINE = re.compile(r"^(?P<scope>[^.]+|:env:)\.(?P<key>[a-z0-9-]+)='(?P<value>.*)'$")
_FILE_URL = "file://"


@dataclass(frozen=True)
class PipBuildSettings:
    """Build arguments (``PIP_*``) and read-only mounts (host path, path in the build)."""

    args: dict[str, str] = field(default_factory=dict)
    mounts: list[tuple[Path, PurePosixPath]] = field(default_factory=list)

    def podman_options(self) -> list[str]:
        """``--build-arg`` and ``--volume`` options for ``podman build``."""
        options: list[str] = []
        for name, value in sorted(self.args.items()):
            options += ["--build-arg", f"{name}={value}"]
        for host, inside in self.mounts:
            options += ["--volume", f"{host}:{inside}:ro"]
        return options


def read_config(python: Path) -> dict[str, str]:
    """The settings ``pip config list`` reports for ``python``'s pip, the winning scope's."""
    listing = subprocess.run(
        [str(python), "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return parse_listing(listing)


def parse_listing(listing: str) -> dict[str, str]:
    """``pip config list`` output as {key: value}, the environment over site, user, global."""
    ranked: dict[str, tuple[int, str]] = {}
    for line in listing.splitlines():
        match = _LINE.match(line.strip())
        if match is None or match["scope"] not in _SCOPES:
            continue
        rank = _SCOPES.index(match["scope"])
        key = match["key"]
        if key not in ranked or rank >= ranked[key][0]:
            ranked[key] = (rank, match["value"])
    return {key: value for key, (_rank, value) in ranked.items()}


def build_settings(config: dict[str, str]) -> PipBuildSettings:
    """Translate pip's settings for a build: local paths mounted and rewritten."""
    settings = PipBuildSettings()
    mounted: dict[Path, PurePosixPath] = {}
    for key in KEYS:
        if key not in config:
            continue
        value = config[key]
        if key in _PATH_KEYS:
            value = " ".join(_inside(token, mounted) for token in value.split())
        settings.args["PIP_" + key.upper().replace("-", "_")] = value
    settings.mounts.extend(sorted(mounted.items()))
    return settings


def _inside(token: str, mounted: dict[Path, PurePosixPath]) -> str:
    """``token`` as the build sees it: a local path (or file:// URL) moved under MOUNT_ROOT."""
    is_url = token.startswith(_FILE_URL)
    path_text = token.removeprefix(_FILE_URL) if is_url else token
    if not path_text.startswith("/"):
        return token  # a remote index: reached over the build's network as it is
    path = Path(path_text)
    # A "simple" index links to its files relatively (../../files/...): mount its parent.
    root = path.parent if path.name == "simple" else path
    if not root.exists():
        return token
    mounted[root] = MOUNT_ROOT / root.relative_to("/")
    inside = MOUNT_ROOT / path.relative_to("/")
    return f"{_FILE_URL}{inside}" if is_url else str(inside)
