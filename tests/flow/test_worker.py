"""One call's worker: its key timer queues a timeout, and a new timer replaces the old one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from callrec_ari.flow import events as ev
from callrec_ari.flow.worker import CallWorker

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


async def test_the_key_timer_queues_one_timeout_when_it_runs_out():
    """A timer that runs out puts a KeyTimeout on the call's queue and forgets itself."""
    worker = CallWorker("1.1", connection=1)
    worker.start_timer(0.01, lambda: T0)
    item = await asyncio.wait_for(worker.queue.get(), 1)
    assert item == ev.KeyTimeout(at=T0)
    assert worker.timer is None


async def test_a_new_timer_replaces_the_one_running():
    """Started twice, the timer runs out once, at the second one's time."""
    worker = CallWorker("1.1", connection=1)
    worker.start_timer(0.01, lambda: T0)
    worker.start_timer(0.05, lambda: T0)
    await asyncio.wait_for(worker.queue.get(), 1)
    await asyncio.sleep(0.05)
    assert worker.queue.empty()
