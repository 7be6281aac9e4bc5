"""The disk the benchmark's recordings go to: a journaled ext4 file system, as on a server.

Creating a file on an ext4 file system without a journal makes the kernel skip every inode
freed in the last minutes (``recently_deleted``; only file systems without a journal check
it). Sandboxes such as the CI machines run on one, and there, with the files a recording
system creates and deletes all day, each new file cost 0.5-0.9 ms of CPU against 0.04-0.06 ms
on a journaled ext4 (README, Performance). Every call creates three WAVs in Asterisk and, with
encryption, three sealed files in callrec, so such a disk measures the kernel, not the PBX.

``journaled`` puts both paths' recordings on a fresh journaled ext4 image, loop-mounted and
bind-mounted over the sandbox's two recordings folders, and takes it all away afterwards.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

_IMAGE_BYTES = 8 * 1024**3  # sparse: only what the run writes takes room
_TIMEOUT = 60


class DiskError(RuntimeError):
    """The journaled file system could not be made or mounted; the message says which step."""


@contextlib.contextmanager
def journaled(folders: list[Path], workdir: Path) -> Iterator[str]:
    """Each of ``folders`` (empty, existing) on one fresh journaled ext4 file system until the
    block ends; yields a description for the report. ``DiskError`` if it cannot be set up."""
    image = workdir / "recordings.ext4"
    mount_point = workdir / "recordings-disk"
    mounted: list[Path] = []
    try:
        with image.open("wb") as handle:
            handle.truncate(_IMAGE_BYTES)
        _run(["mkfs.ext4", "-q", "-F", "-O", "has_journal", str(image)], "make the file system")
        mount_point.mkdir()
        _run(["mount", "-o", "loop", str(image), str(mount_point)], "loop-mount the image")
        mounted.append(mount_point)
        for index, folder in enumerate(folders):
            inside = mount_point / f"recordings-{index}"
            inside.mkdir()
            _run(["mount", "--bind", str(inside), str(folder)], f"bind-mount it over {folder}")
            mounted.append(folder)
        yield "a journaled ext4 image (loop device), as on a server"
    finally:
        for point in reversed(mounted):
            # Lazy: a file the stopped Asterisk left open must not keep the image mounted.
            subprocess.run(["umount", "-l", str(point)], check=False, timeout=_TIMEOUT)
        image.unlink(missing_ok=True)


def _run(command: list[str], step: str) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", None) or str(exc)
        raise DiskError(f"Could not {step} for the recordings ({detail.strip()}).") from None
