"""Whether the Asterisk a call ran on is gone for good: its start time changed.

A call whose end callrec saw waits for MixMonitor to close its recording (``finalise.py``).
If Asterisk dies in that moment (killed a few milliseconds after the hang-up), nothing will
ever close the file. Only another Asterisk process proves that: a lost connection alone does
not (a network blip, a heartbeat a busy Asterisk missed), and a file a live Asterisk is still
closing must not be repaired under it (its own header write would come after the repair and
the row's SHA-256 would no longer match the file).

So at every (re)connection callrec asks Asterisk when it started (``/asterisk/info``); a value
other than the previous one is a restart. A call knows the connection it started on (its
``mark``): any restart seen at a later connection ended the Asterisk that recorded it.
"""

from __future__ import annotations

import asyncio

import structlog

from callrec_ari.ari.port import AriPort
from callrec_ari.errors import AriError, AriUnavailableError

log = structlog.get_logger(__name__)


class AsteriskStarts:
    """Follows Asterisk's start time from one connection to the next."""

    def __init__(self, ari: AriPort) -> None:
        self._ari = ari
        self._connection = 0  # connections opened so far
        self._started: str | None = None  # the start time the last check read
        self._restarted_at = 0  # the connection at whose check a restart was last seen
        self._checked = asyncio.Event()  # set, then replaced, at every check

    @property
    def connection(self) -> int:
        """The current connection's number: a new call's ``mark``."""
        return self._connection

    def opened(self) -> None:
        """A new connection is open (its check follows)."""
        self._connection += 1

    async def check(self) -> bool:
        """At a (re)connection: read Asterisk's start time; True if it is another Asterisk
        than at the previous check. An unanswered question is logged and decides nothing."""
        try:
            started: str | None = await self._ari.started_at()
        except AriError as exc:
            log.warning("ari.start_time_unknown", error=str(exc))
            started = None
        restarted = None not in (started, self._started) and started != self._started
        if started is not None:
            self._started = started
        if restarted:
            self._restarted_at = self._connection
            log.warning("ari.asterisk_restarted", started=started)
        checked, self._checked = self._checked, asyncio.Event()
        checked.set()
        return restarted

    def restarted_since(self, mark: int) -> bool:
        """Whether a check has seen Asterisk restarted since connection ``mark``."""
        return self._restarted_at > mark

    async def wait_restart(self, mark: int) -> None:
        """Return once Asterisk is seen restarted since connection ``mark`` (maybe never)."""
        while not self.restarted_since(mark):
            await self._checked.wait()

    async def decided(self, mark: int) -> bool:
        """Whether Asterisk restarted since connection ``mark``, asked now; if Asterisk cannot
        be reached, answered at the next connection's check (which may take a while)."""
        if self.restarted_since(mark):
            return True
        try:
            started = await self._ari.started_at()
        except AriUnavailableError:
            log.warning("recording.waits_for_asterisk")
            await self._checked.wait()
            return self.restarted_since(mark)
        except AriError as exc:
            log.warning("ari.start_time_unknown", error=str(exc))
            return False
        return self._started is not None and started != self._started
