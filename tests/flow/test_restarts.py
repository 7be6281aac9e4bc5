"""Asterisk's start time followed across connections: only another process is a restart."""

from __future__ import annotations

import asyncio

from callrec_ari.ari.fake import FakeAri
from callrec_ari.flow.restarts import AsteriskStarts


async def started(ari: FakeAri) -> AsteriskStarts:
    """Watching an Asterisk since callrec's first connection."""
    starts = AsteriskStarts(ari)
    starts.opened()
    assert not await starts.check()
    return starts


async def test_a_new_start_time_at_a_reconnect_is_a_restart():
    """Reconnected to a restarted Asterisk: calls started before are told, newer ones not."""
    ari = FakeAri()
    starts = await started(ari)
    mark = starts.connection
    ari.restart()
    starts.opened()
    assert await starts.check()
    assert starts.restarted_since(mark)
    assert not starts.restarted_since(starts.connection)
    await asyncio.wait_for(starts.wait_restart(mark), 1)


async def test_a_reconnect_to_the_same_asterisk_is_no_restart():
    """The same start time again (a lost connection, a live Asterisk): nothing restarted."""
    ari = FakeAri()
    starts = await started(ari)
    mark = starts.connection
    starts.opened()
    assert not await starts.check()
    assert not starts.restarted_since(mark)
    assert not await starts.decided(mark)


async def test_an_unanswered_start_time_decides_nothing_then_the_next_check_does():
    """Asterisk unreachable at a check: no restart claimed; the next check compares with the
    last start time read, so the restart is still seen."""
    ari = FakeAri()
    starts = await started(ari)
    mark = starts.connection
    ari.unavailable = True
    starts.opened()
    assert not await starts.check()
    ari.unavailable = False
    ari.restart()
    starts.opened()
    assert await starts.check()
    assert starts.restarted_since(mark)


async def test_asked_while_asterisk_is_down_the_answer_waits_for_its_return():
    """``decided`` with Asterisk unreachable answers at the next connection's check."""
    ari = FakeAri()
    starts = await started(ari)
    mark = starts.connection
    ari.unavailable = True
    answer = asyncio.create_task(starts.decided(mark))
    await asyncio.sleep(0.05)
    assert not answer.done()
    ari.unavailable = False
    ari.restart()
    starts.opened()
    await starts.check()
    assert await asyncio.wait_for(answer, 1)


async def test_asked_directly_a_restarted_asterisk_counts_before_the_reconnect():
    """Asterisk answers with another start time before the events connection is back."""
    ari = FakeAri()
    starts = await started(ari)
    ari.restart()
    assert await starts.decided(starts.connection)
