"""How often one kind of event goes into the audit trail: at most once per key and window.

Someone fuzzing addresses, or a browser's audio player asking for the same recording in a
hundred byte ranges, must not bury the entries a data-protection officer looks for. The
first event of a key (e.g. ``("anna", "forbidden")``) is written; the following ones within
``every`` are counted, and that count goes with the next entry written for the key. Nothing
is lost except the per-request detail of the counted ones.

Pure and synchronous: the caller passes the time and writes the entry itself. The state is
in memory, for one web process; after a restart the first event of every key is written
again, so a restart can only add entries, never hide one.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass
class _Window:
    written_at: datetime
    skipped: int = 0


class TrailLimiter:
    """Decides which events of a key are written to the trail (see the module docstring)."""

    def __init__(self, *, every: timedelta, max_keys: int = 10_000) -> None:
        if every <= timedelta(0):
            raise ValueError("The window of a trail limiter must be positive.")
        self._every = every
        self._max_keys = max_keys
        self._windows: dict[Hashable, _Window] = {}

    def admit(self, key: Hashable, now: datetime) -> int | None:
        """``None`` if this event is only counted; otherwise write it, noting the returned
        number of events of ``key`` counted but not written since the previous entry."""
        window = self._windows.get(key)
        if window is not None and now - window.written_at < self._every:
            window.skipped += 1
            return None
        skipped = window.skipped if window is not None else 0
        self._windows[key] = _Window(written_at=now)
        if len(self._windows) > self._max_keys:
            self._forget(now)
        return skipped

    def _forget(self, now: datetime) -> None:
        """Drop windows that are over and counted nothing: their next event is written
        anyway, with nothing to carry. Counts are kept, so none goes unreported."""
        for key in [
            key
            for key, window in self._windows.items()
            if window.skipped == 0 and now - window.written_at >= self._every
        ]:
            del self._windows[key]

    def __len__(self) -> int:
        """How many keys are remembered (bounded by ``max_keys`` plus those with counts)."""
        return len(self._windows)

    def pending(self, key: Hashable) -> int:
        """How many events of ``key`` were counted and not yet reported."""
        window = self._windows.get(key)
        return window.skipped if window is not None else 0
