"""Measures the event loop's lag: how late a task that only sleeps wakes up.

Everything in the service (every call, every ARI event) shares one event loop; when a step
hogs it, a timer due now runs late by exactly that long. A quarter of a second between
measurements costs nothing measurable and catches any stall longer than a few milliseconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

INTERVAL_SECONDS = 0.25


class LoopLag:
    """Sleeps ``interval`` seconds, again and again, and reports how much longer it took."""

    def __init__(
        self,
        observe: Callable[[float], None],
        *,
        interval: float = INTERVAL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.latest = 0.0  # seconds, the last measurement (for a check that needs it now)
        self._observe = observe
        self._interval = interval
        self._monotonic = monotonic
        self._sleep = sleep

    async def run(self) -> None:
        """Measure until cancelled."""
        while True:
            before = self._monotonic()
            await self._sleep(self._interval)
            self.latest = max(self._monotonic() - before - self._interval, 0.0)
            self._observe(self.latest)
