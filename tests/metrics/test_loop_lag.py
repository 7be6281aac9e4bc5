"""The event loop's lag: how late a sleeping task wakes."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from callrec_ari.metrics import LoopLag


class Clock:
    """A monotonic clock each sleep moves on by the sleep plus the loop's made-up delay."""

    def __init__(self, delays: list[float]) -> None:
        self.now = 0.0
        self.delays = delays

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if not self.delays:
            raise asyncio.CancelledError
        self.now += seconds + self.delays.pop(0)


async def test_each_wake_reports_how_late_it_came():
    """Waking on time is no lag; waking 0.3 s after the timer was due is 0.3 s of lag."""
    clock = Clock([0.0, 0.3, 0.002])
    seen: list[float] = []
    lag = LoopLag(seen.append, interval=0.25, monotonic=clock, sleep=clock.sleep)
    with pytest.raises(asyncio.CancelledError):
        await lag.run()
    assert seen == pytest.approx([0.0, 0.3, 0.002])
    assert lag.latest == pytest.approx(0.002)


async def test_a_step_that_hogs_the_loop_shows_as_lag():
    """On the real loop, a callback that blocks for 0.2 s makes the next wake 0.2 s late."""
    seen: asyncio.Queue[float] = asyncio.Queue()
    lag = LoopLag(seen.put_nowait, interval=0.05)
    task = asyncio.create_task(lag.run())
    try:
        unhindered = await seen.get()
        asyncio.get_running_loop().call_soon(time.sleep, 0.2)
        hindered = await seen.get()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert unhindered < hindered
    assert hindered >= 0.15
