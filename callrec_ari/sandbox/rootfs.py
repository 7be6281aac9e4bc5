"""Build (once) and cache a Debian unstable root file system holding Asterisk 22.

The mirror is read from this machine's own apt sources at run time, so no registry host
name is ever written into the repository.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import structlog

from callrec_ari.errors import SandboxError

SUITE = "sid"
PACKAGES = ("asterisk", "asterisk-core-sounds-en")
_APT_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))
_DEBIAN_KEYRING = "debian-archive-keyring.gpg"

log = structlog.get_logger(__name__)


def debian_mirror(sources: Iterable[Path] = _APT_SOURCES) -> str:
    """The first Debian archive URI among the machine's apt sources (not security, not ports)."""
    for text in _source_texts(sources):
        for uri, suites in _entries(text):
            if "security" in uri or any(s.endswith("-security") for s in suites):
                continue
            if uri.rstrip("/").endswith("/debian"):
                return uri.rstrip("/")
    raise SandboxError(
        "No Debian archive found in this machine's apt sources (/etc/apt/sources.list*)."
    )


def _source_texts(sources: Iterable[Path]) -> list[str]:
    texts: list[str] = []
    for source in sources:
        files = sorted(source.glob("*.sources")) + sorted(source.glob("*.list"))
        for path in files if source.is_dir() else [source]:
            if path.is_file():
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return texts


def _entries(text: str) -> list[tuple[str, list[str]]]:
    """(URI, suites) of every enabled entry, in one-line or deb822 format."""
    entries: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        match = re.match(r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
        if match:
            entries.append((match.group(1), [match.group(2)]))
    for stanza in re.split(r"\n\s*\n", text):
        fields = {
            m.group(1).lower(): m.group(2).strip()
            for m in re.finditer(r"^([A-Za-z-]+):[ \t]*(.*)$", stanza, re.MULTILINE)
        }
        if "uris" in fields and fields.get("enabled", "yes").lower() != "no":
            if "deb" not in fields.get("types", "deb").split():
                continue
            suites = fields.get("suites", "").split()
            entries.extend((uri, suites) for uri in fields["uris"].split())
    return entries


def cache_key(packages: Iterable[str] = PACKAGES, suite: str = SUITE) -> str:
    """A short name for one combination of suite and packages."""
    digest = hashlib.sha256(f"{suite}:{','.join(sorted(packages))}".encode()).hexdigest()
    return digest[:12]


def ensure_rootfs(cache_dir: Path, *, packages: Iterable[str] = PACKAGES) -> Path:
    """Return the cached root file system, building it with mmdebstrap if it is missing."""
    packages = tuple(packages)
    target = cache_dir / f"asterisk-rootfs-{cache_key(packages)}"
    if (target / "usr/sbin/asterisk").exists():
        return target
    if shutil.which("mmdebstrap") is None:
        raise SandboxError("mmdebstrap is not installed (apt-get install mmdebstrap).")
    cache_dir.mkdir(parents=True, exist_ok=True)
    building = target.with_name(target.name + ".building")
    if building.exists():
        shutil.rmtree(building)
    mirror = debian_mirror()
    keyring = Path("/usr/share/keyrings") / _DEBIAN_KEYRING
    command = [
        "mmdebstrap",
        "--variant=apt",
        "--mode=root",
        f"--include={','.join(packages)}",
        '--aptopt=Acquire::Check-Valid-Until "false"',
        *([f"--keyring={keyring}"] if keyring.exists() else []),
        SUITE,
        str(building),
        mirror,
    ]
    log.info("sandbox.rootfs.building", target=str(target), packages=packages)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        raise SandboxError(f"mmdebstrap could not build the Asterisk root file system: {tail}")
    building.rename(target)
    log.info("sandbox.rootfs.ready", target=str(target))
    return target
