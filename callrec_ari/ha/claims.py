"""Claiming the calls ``StasisBroadcast()`` offers to every instance (Asterisk 22.7+).

The dialplan offers each new call to every instance's application with ``CallBroadcast``;
the first ``POST /events/claim`` wins and that instance receives the call's ``StasisStart``.
An instance that is dead, hung or refuses (``accepting`` false) does not claim, so the call
goes to another, or after the dialplan's timeout on unrecorded (fail-open). Every other
event goes on to the controller untouched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from callrec_ari.ari import models as ari
from callrec_ari.ari.port import InstancePort
from callrec_ari.errors import AriError

log = structlog.get_logger(__name__)


class Claimer:
    """Sits in front of the controller's ``on_event``; never blocks the event reader."""

    def __init__(
        self,
        port: InstancePort,
        on_event: Callable[[ari.AriEvent], None],
        *,
        accepting: Callable[[], bool] = lambda: True,
    ) -> None:
        self._port = port
        self._on_event = on_event
        self._accepting = accepting
        self._tasks: set[asyncio.Task[None]] = set()
        self.won = 0
        self.lost = 0

    def on_event(self, event: ari.AriEvent) -> None:
        """Claim a broadcast call (in the background); pass every other event on."""
        if not isinstance(event, ari.CallBroadcast):
            self._on_event(event)
            return
        if not self._accepting():
            log.info("call.not_claimed", call_id=event.channel_id)
            return
        task = asyncio.create_task(self._claim(event.channel_id), name="claim")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _claim(self, channel_id: str) -> None:
        try:
            won = await self._port.claim(channel_id)
        except AriError as exc:
            # Unclaimed, the call goes to another instance or, after the timeout, on unrecorded.
            log.warning("call.claim_failed", call_id=channel_id, error=str(exc))
            return
        if won:
            self.won += 1
        else:
            self.lost += 1

    async def close(self) -> None:
        """Wait for claims under way (each is one short request)."""
        await asyncio.gather(*self._tasks, return_exceptions=True)
