"""Whether Asterisk's dialplan names each recording itself, sparing a request per call.

When callrec sets no ``CALLREC_FILE``, the record context builds
``${CALLREC_DIR}/<CALLREC_START's day, UTC>/${UNIQUEID}.wav`` and takes the withdrawal item
from the global ``CALLREC_WITHDRAW_FEATURE``. That is the path and item callrec expects only
if Asterisk's globals hold this service's folder and item, so they are read at every
connection and again every minute; until they match, each call gets its variables set as
before (one request more, the same recording).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import PurePosixPath

import structlog

from callrec_ari.ari.port import AriPort
from callrec_ari.config import Settings
from callrec_ari.errors import AriError
from callrec_ari.recording.withdrawal import feature_name

log = structlog.get_logger(__name__)

DIR = "CALLREC_DIR"
WITHDRAW_FEATURE = "CALLREC_WITHDRAW_FEATURE"
RECHECK_SECONDS = 60.0


def expected_globals(settings: Settings) -> dict[str, str]:
    """The globals under which the dialplan's own path is callrec's."""
    key = settings.consent.decline_key
    return {
        DIR: str(settings.recording.asterisk_dir),
        WITHDRAW_FEATURE: feature_name(key) if key is not None else "",
    }


def mismatched(expected: Mapping[str, str], found: Mapping[str, str]) -> list[str]:
    """The names whose value in Asterisk is not the expected one (a folder is compared as a
    path, so a trailing slash does not count)."""
    wrong = []
    for name, want in expected.items():
        have = found.get(name, "")
        if name == DIR:
            same = bool(have) and PurePosixPath(have) == PurePosixPath(want)
        else:
            same = have == want
        if not same:
            wrong.append(name)
    return wrong


class DialplanPaths:
    """What the last reading of Asterisk's globals said, and when to read them again."""

    def __init__(
        self,
        port: AriPort,
        settings: Callable[[], Settings],
        monotonic: Callable[[], float],
        *,
        recheck_seconds: float = RECHECK_SECONDS,
    ) -> None:
        self._port = port
        self._settings = settings
        self._monotonic = monotonic
        self._recheck = recheck_seconds
        self._checked_at: float | None = None
        self._checking = False
        self.usable = False

    def due(self) -> bool:
        """Whether the globals should be read again: a minute after the last reading (the
        first is made when a connection opens), never while one is under way."""
        if self._checking or self._checked_at is None:
            return False
        return self._monotonic() - self._checked_at >= self._recheck

    async def check(self) -> bool:
        """Read the globals and decide; a failed reading means "set the variables per call"."""
        self._checking = True
        try:
            expected = expected_globals(self._settings())
            try:
                found = {name: await self._port.global_value(name) for name in expected}
            except AriError as exc:
                usable, wrong = False, list(expected)
                log.warning("dialplan.globals_unreadable", error=str(exc))
            else:
                wrong = mismatched(expected, found)
                usable = not wrong
            if usable != self.usable or self._checked_at is None:
                if usable:
                    log.info("dialplan.names_recordings")
                else:
                    # Not an error: older dialplans work as before, at one request more a call.
                    log.info("dialplan.recording_variables_per_call", globals_differ=wrong)
            self.usable = usable
            return usable
        finally:
            self._checked_at = self._monotonic()
            self._checking = False
