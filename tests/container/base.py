"""A Debian bookworm base image with python3 and its venv module, made here with mmdebstrap.

No image registry is reachable from the test machine, so the image build starts from a root
file system made from this machine's own apt sources (read at run time, never written into
the repository). The tarball is cached outside the repository, named by a hash of what goes
into it, and imported into podman's storage under the same name.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from callrec_ari.sandbox.rootfs import debian_mirror

SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv", "ca-certificates")
_FORMAT = "1"  # bump when the way the tarball is made changes
_KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")


def base_key(mirror: str, packages: tuple[str, ...] = PACKAGES, suite: str = SUITE) -> str:
    """A short name for one combination of mirror, suite and packages."""
    text = f"{_FORMAT}|{suite}|{mirror}|{','.join(sorted(packages))}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def ensure_base_tarball(cache_dir: Path) -> Path:
    """The cached base tarball, made with mmdebstrap if missing (about a minute)."""
    mirror = debian_mirror()
    target = cache_dir / f"base-{SUITE}-{base_key(mirror)}.tar"
    if target.exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    building = target.with_suffix(".building")
    building.unlink(missing_ok=True)
    command = [
        "mmdebstrap",
        "--variant=apt",
        "--mode=root",
        f"--include={','.join(PACKAGES)}",
        '--aptopt=Acquire::Check-Valid-Until "false"',
        # Smaller layers and no stale lists: the Dockerfile runs apt-get update if it needs apt.
        "--customize-hook=rm -rf $1/var/lib/apt/lists/* $1/var/cache/apt/*.bin",
        *([f"--keyring={_KEYRING}"] if _KEYRING.exists() else []),
        "--format=tar",
        SUITE,
        str(building),
        f"deb {mirror} {SUITE} main",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"mmdebstrap could not make the base image: {tail}")
    building.rename(target)
    return target


def ensure_base_image(cache_dir: Path) -> str:
    """The base image's name in podman's storage, imported from the cached tarball if needed."""
    tarball = ensure_base_tarball(cache_dir)
    name = f"localhost/callrec-base:{tarball.stem.removeprefix('base-')}"
    exists = subprocess.run(["podman", "image", "exists", name], check=False)
    if exists.returncode != 0:
        subprocess.run(
            ["podman", "import", "--quiet", str(tarball), name],
            capture_output=True,
            text=True,
            check=True,
        )
    return name
