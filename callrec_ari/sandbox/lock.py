"""One owner per sandbox instance: a lock held for as long as the instance runs.

The lock is an ``flock`` on ``<cache>/locks/<instance>.lock``: the kernel releases it when
its holder exits, however it exits, so a crashed run never leaves a stale lock behind. Beside
it, ``<instance>.json`` says who holds it (pid, command, the effective configuration), so a
second command can use the running sandbox instead of starting, or killing, another.

Acceptance runs and benchmarks do not use the instance a person runs (``callrec``, slot 0):
they claim the first free numbered slot, each with its own addresses and ports.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from callrec_ari.errors import SandboxError
from callrec_ari.sandbox.asterisk import slot_name

MAX_SLOT = 16  # slots 1..16 for test runs and benchmarks; slot 0 is the person's sandbox


@dataclass(frozen=True, kw_only=True)
class Holder:
    """Who holds an instance: enough to tell a person, and to use the running sandbox."""

    pid: int
    command: str
    config: Path | None = None  # the effective configuration of the service it runs, if any


class InstanceLock:
    """The lock of one sandbox instance; not re-entrant, released by ``release`` or exit."""

    def __init__(self, lock_dir: Path, name: str) -> None:
        self.lock_dir = lock_dir
        self.name = name
        self._file: IO[str] | None = None

    @property
    def path(self) -> Path:
        """The lock file."""
        return self.lock_dir / f"{self.name}.lock"

    @property
    def holder_path(self) -> Path:
        """The file saying who holds the lock."""
        return self.lock_dir / f"{self.name}.json"

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._file is not None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; never waits."""
        if self._file is not None:
            return True
        try:
            self.lock_dir.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            raise SandboxError(
                f"The sandbox lock {self.path} cannot be opened: {exc.strerror}."
            ) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        with contextlib.suppress(FileNotFoundError):
            self.holder_path.unlink()  # a dead holder's note
        return True

    def acquire(self, command: str, *, wait_seconds: float = 0.0) -> None:
        """Take the lock, waiting up to ``wait_seconds`` for its holder to let go; otherwise
        raise ``SandboxError`` naming who holds it."""
        deadline = time.monotonic() + wait_seconds
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                raise SandboxError(self.busy_message())
            time.sleep(0.2)
        self.record(Holder(pid=os.getpid(), command=command))

    def record(self, holder: Holder) -> None:
        """Say who holds the lock (only while holding it)."""
        if self._file is None:
            raise SandboxError(f"The sandbox instance {self.name} is not locked by this process.")
        data = {"pid": holder.pid, "command": holder.command, "config": None}
        if holder.config is not None:
            data["config"] = str(holder.config)
        temporary = self.holder_path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(data), encoding="utf-8")
        temporary.replace(self.holder_path)

    def holder(self) -> Holder | None:
        """Who says they hold the lock (None if nobody said, or the note is unreadable)."""
        try:
            data = json.loads(self.holder_path.read_text(encoding="utf-8"))
            config = data.get("config")
            return Holder(
                pid=int(data["pid"]),
                command=str(data["command"]),
                config=Path(config) if isinstance(config, str) else None,
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def busy_message(self) -> str:
        """One sentence saying that, and by whom, the instance is in use."""
        holder = self.holder()
        who = f"process {holder.pid} ({holder.command})" if holder else "another process"
        return f"The sandbox instance {self.name} is in use by {who}."

    def release(self) -> None:
        """Let go of the lock."""
        handle, self._file = self._file, None
        if handle is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.holder_path.unlink()
        handle.close()  # closing the only descriptor releases the flock

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _reservation(lock_dir: Path, slot: int) -> InstanceLock:
    return InstanceLock(lock_dir, f"{slot_name(slot)}.reserved")


def reserve_slot(lock_dir: Path, command: str, *, first: int = 1) -> tuple[int, InstanceLock]:
    """The first free numbered slot from ``first`` on, kept from other claimers by the
    returned reservation while this process hands it to commands it starts (which lock the
    instance themselves)."""
    for slot in range(first, MAX_SLOT + 1):
        reservation = _reservation(lock_dir, slot)
        if not reservation.try_acquire():
            continue
        instance = InstanceLock(lock_dir, slot_name(slot))
        if instance.try_acquire():
            instance.release()
            reservation.record(Holder(pid=os.getpid(), command=command))
            return slot, reservation
        reservation.release()
    raise SandboxError(f"All {MAX_SLOT} sandbox slots are in use; see the holders in {lock_dir}.")


def claim_slot(lock_dir: Path, command: str, *, first: int = 1) -> tuple[int, InstanceLock]:
    """The first free numbered slot from ``first`` on, locked for this process."""
    slot, reservation = reserve_slot(lock_dir, command, first=first)
    try:
        lock = InstanceLock(lock_dir, slot_name(slot))
        lock.acquire(command)  # nobody else can: the slot is reserved
    finally:
        reservation.release()
    return slot, lock
