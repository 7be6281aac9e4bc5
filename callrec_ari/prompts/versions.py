"""Which version of each installed prompt Asterisk plays now: an in-memory map for the call path.

The consent flow names, for each announcement a caller hears, the version and the SHA-256 of
the audio. Hashing on the call path would delay every caller, so the service keeps this map
(``PromptVersions``) and refreshes it off the path (``version_store.PromptWatcher``), re-hashing
a file only when its size or modification time changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Current:
    """The version of one prompt file in force, and the SHA-256 of its audio."""

    version: int | None  # None: the database has not numbered this audio yet
    sha256: str


Key = tuple[str, str]  # (prompt name, language)
# Under the journal folder: each version's audio, out of Asterisk's reach (version_store.py).
ARCHIVE_FOLDER = "prompt-versions"


class PromptVersions:
    """The current version of each (prompt, language); swapped whole, read without locks."""

    def __init__(self, current: Mapping[Key, Current] | None = None) -> None:
        self._current: Mapping[Key, Current] = dict(current or {})

    def lookup(self, name: str, language: str) -> Current | None:
        """The version of ``name`` in ``language`` callers hear now, if one is known."""
        return self._current.get((name, language))

    def update(self, current: Mapping[Key, Current]) -> None:
        """Use ``current`` from now on (one assignment: a reader sees the old or the new map)."""
        self._current = dict(current)

    def snapshot(self) -> dict[Key, Current]:
        """A copy of the map."""
        return dict(self._current)
