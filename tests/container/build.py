"""Build callrec's Dockerfile with podman (chroot isolation, no daemon) and run its image.

The build starts from the locally made base (``base.py``) and gets this machine's pip
settings as build arguments with their local folders mounted read-only (``pip_settings.py``).
This sandbox's kernel refuses what podman asks for by default (no ``CAP_SYS_RESOURCE``:
``RLIMIT_NOFILE`` above 20 000 is denied, and podman lowers its own ``RLIMIT_NPROC`` hard limit
to 32 768 before asking for more), and crun does not run on its hybrid cgroup layout: so
containers run with runc and with limits this machine allows (``RUN_OPTIONS``).
"""

from __future__ import annotations

import fcntl
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.container.base import ensure_base_image
from tests.container.pip_settings import build_settings, read_config

PROJECT_DIR = Path(__file__).resolve().parents[2]
CACHE_DIR = Path(os.environ.get("CALLREC_SANDBOX_CACHE", "/var/cache/callrec")) / "container"
IMAGE_TAG = "localhost/callrec:test"
RUNTIME = ["podman", "--runtime", "runc"]


def run_options() -> list[str]:
    """``podman run`` options for limits this machine grants (podman's own defaults it refuses)."""
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 32768)
    return ["--ulimit", f"nofile={nofile}:{nofile}", "--ulimit", f"nproc={nproc}:{nproc}"]


@dataclass(frozen=True)
class BuiltImage:
    """An image built from the Dockerfile: its id, and how long the build took."""

    image_id: str
    base: str
    seconds: float
    base_seconds: float


@contextmanager
def _build_lock() -> Iterator[None]:
    """One build at a time on this machine (pytest-xdist workers, other test runs)."""
    locks = CACHE_DIR.parent / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    with (locks / "container-image.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_image(*, log: Path) -> BuiltImage:
    """Build the Dockerfile on the local base; podman's layer cache makes a rebuild quick."""
    with _build_lock():
        started = time.monotonic()
        base = ensure_base_image(CACHE_DIR)
        base_seconds = time.monotonic() - started
        pip = build_settings(read_config(Path(sys.executable)))
        previous = _image_id(IMAGE_TAG)
        iidfile = log.with_suffix(".iid")
        command = [
            *RUNTIME,
            "build",
            "--isolation=chroot",
            "--layers",
            "--format=docker",  # the OCI format has no HEALTHCHECK
            "--build-arg",
            f"BASE_IMAGE={base}",
            *pip.podman_options(),
            "--iidfile",
            str(iidfile),
            "--tag",
            IMAGE_TAG,
            str(PROJECT_DIR),
        ]
        with log.open("w") as output:
            result = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, check=False)
        if result.returncode != 0:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
            raise RuntimeError(f"podman build failed (log: {log}):\n{tail}")
        image_id = iidfile.read_text().strip().removeprefix("sha256:")
        if previous and previous != image_id:
            # The image this tag named before, now untagged: ours to remove (never forced,
            # so one a container still uses stays).
            subprocess.run(["podman", "rmi", previous], capture_output=True, check=False)
        return BuiltImage(
            image_id=image_id,
            base=base,
            seconds=time.monotonic() - started,
            base_seconds=base_seconds,
        )


def _image_id(name: str) -> str | None:
    result = subprocess.run(
        ["podman", "image", "inspect", "--format", "{{.Id}}", name],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or None if result.returncode == 0 else None
