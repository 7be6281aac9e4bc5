"""The call path's own copy of the do-not-record list: looked up in memory, never in the database.

The running service reloads it from the database every few seconds and keeps the last copy
in a local file, so a restart while the database is down still honours the list.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import structlog

from callrec_ari.numbers import to_e164

log = structlog.get_logger(__name__)


class DoNotRecordList:
    """E.164 numbers whose calls are connected without recording."""

    def __init__(self, region: str, cache_file: Path | None = None) -> None:
        """An empty list; ``region`` reads national caller numbers, ``cache_file`` persists it."""
        self._region = region
        self._cache_file = cache_file
        self._numbers: frozenset[str] = frozenset()

    def __len__(self) -> int:
        return len(self._numbers)

    def matches(self, caller_number: str | None) -> bool:
        """Whether a caller number, as the network sent it, is on the list."""
        if not self._numbers:
            return False
        number = to_e164(caller_number, self._region)
        return number is not None and number in self._numbers

    def replace(self, numbers: Iterable[str]) -> bool:
        """Take a fresh copy of the list; True if it changed."""
        fresh = frozenset(numbers)
        changed = fresh != self._numbers
        self._numbers = fresh
        return changed

    def save(self) -> None:
        """Write the list to the cache file atomically (blocking: run it in a thread)."""
        if self._cache_file is None:
            return
        temporary = self._cache_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(sorted(self._numbers)), encoding="utf-8")
        with temporary.open("rb") as file:
            os.fsync(file.fileno())
        temporary.replace(self._cache_file)

    def load(self) -> None:
        """Read the last saved copy, if any; a damaged file is logged and ignored."""
        if self._cache_file is None or not self._cache_file.exists():
            return
        try:
            numbers = json.loads(self._cache_file.read_text(encoding="utf-8"))
            if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
                raise ValueError("not a list of numbers")  # noqa: TRY301 - handled just below
        except (OSError, ValueError) as exc:
            log.error("do_not_record.cache_unreadable", path=str(self._cache_file), error=str(exc))
            return
        self._numbers = frozenset(numbers)
