"""The container image, built once per test session with podman from a locally made base.

Every container a test starts is named ``callrec-test-<random>`` and removed by that test;
volumes likewise. Nothing else in podman's storage is touched, apart from the image the
``localhost/callrec:test`` tag named before a rebuild (``build.py``).
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.container.build import RUNTIME, BuiltImage, build_image, run_options

# The first build makes the base with mmdebstrap and installs ffmpeg: minutes, not seconds.
BUILD_TIMEOUT = 1200
pytestmark = pytest.mark.container


@pytest.fixture(scope="session")
def image(tmp_path_factory: pytest.TempPathFactory) -> BuiltImage:
    """The Dockerfile built on the local bookworm base (cached layers make a rebuild quick)."""
    return build_image(log=tmp_path_factory.mktemp("image") / "build.log")


@dataclass
class Podman:
    """Runs containers of the image, each named by the test, and removes them afterwards."""

    image: BuiltImage
    names: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)

    def name(self) -> str:
        """A new container name, removed at the end of the test."""
        name = f"callrec-test-{secrets.token_hex(4)}"
        self.names.append(name)
        return name

    def volume(self) -> str:
        """A new named volume, removed at the end of the test."""
        name = f"callrec-test-{secrets.token_hex(4)}"
        subprocess.run(["podman", "volume", "create", name], capture_output=True, check=True)
        self.volumes.append(name)
        return name

    def run(
        self, *options: str, command: list[str], timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """``podman run --rm`` one command of the image; its result (not checked)."""
        return subprocess.run(
            [
                *RUNTIME,
                "run",
                "--rm",
                "--name",
                self.name(),
                *run_options(),
                *options,
                self.image.image_id,
                *command,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, *options: str, command: list[str] | None = None) -> str:
        """``podman run --detach``: the container's name (the image's CMD unless given)."""
        name = self.name()
        subprocess.run(
            [
                *RUNTIME,
                "run",
                "--detach",
                "--name",
                name,
                *run_options(),
                *options,
                self.image.image_id,
                *(command or []),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return name

    def remove_all(self) -> None:
        """Remove the containers and volumes this test made (a running one is stopped)."""
        for name in self.names:
            subprocess.run(
                ["podman", "rm", "--force", "--ignore", "--time", "5", name],
                capture_output=True,
                check=False,
            )
        for volume in self.volumes:
            subprocess.run(
                ["podman", "volume", "rm", "--force", volume], capture_output=True, check=False
            )


@pytest.fixture
def podman(image: BuiltImage) -> Iterator[Podman]:
    """Containers of the built image, removed after the test."""
    runner = Podman(image)
    yield runner
    runner.remove_all()


def podman_command(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``podman ARGS``: its result (checked unless ``check`` is false)."""
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=check)


def chown_tree(path: Path, uid: int, gid: int) -> None:
    """``chown -R uid:gid path``."""
    for item in [path, *path.rglob("*")]:
        os.chown(item, uid, gid)
