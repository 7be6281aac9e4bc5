"""Following symbolic links in Asterisk's sounds folder the way Asterisk itself would.

Debian ships ``sounds/en`` as an absolute link, ``/etc/alternatives/asterisk-prompt-en``,
which points on to ``/usr/share/asterisk/sounds/en_US_f_Allison``. Seen from a process whose
root is not Asterisk's (callrec outside a chroot or container), such a link points into the
wrong ``/etc`` and leads nowhere. ``resolve`` therefore reads every absolute target of a link
that lies inside ``root`` (Asterisk's root as this process sees it) as a path inside ``root``;
links outside ``root`` keep their usual meaning. With ``root = /`` this is plain ``realpath``,
except that a loop is reported instead of silently returned.
"""

from __future__ import annotations

import os
from collections import deque
from pathlib import Path, PurePosixPath

_MAX_LINKS = 40  # the kernel's own limit (ELOOP) for one path


class LinkLoopError(Exception):
    """Following the links of a path took more than 40 hops: they loop."""


def resolve(path: Path, root: Path) -> Path:
    """``path`` with every symbolic link followed, absolute targets inside ``root`` re-rooted.

    The result need not exist (a link may lead nowhere); raises ``LinkLoopError`` on a loop
    and ``OSError`` if a folder on the way cannot be read.
    """
    root = Path(os.path.realpath(root))
    current = Path("/")
    pending = deque(path.absolute().parts[1:])
    hops = 0
    while pending:
        name = pending.popleft()
        if name in ("", "."):
            continue
        if name == "..":
            # Inside Asterisk's root, as in a chroot, the root's parent is the root itself.
            current = current if current in (root, Path("/")) else current.parent
            continue
        candidate = current / name
        if not candidate.is_symlink():
            current = candidate
            continue
        hops += 1
        if hops > _MAX_LINKS:
            raise LinkLoopError(str(path))
        target = PurePosixPath(candidate.readlink())
        if target.is_absolute():
            current = root if _inside(candidate, root) else Path("/")
            pending.extendleft(reversed(target.parts[1:]))
        else:
            pending.extendleft(reversed(target.parts))
    return current


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
