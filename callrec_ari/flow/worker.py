"""One call in progress as the controller holds it: its queue, its task, its key timer.

The controller's task for the call takes ``Item``s from the queue one at a time; everything
else (events read from ARI, agents found, timers) only puts items in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from callrec_ari.flow import events as ev
from callrec_ari.flow.call import Call
from callrec_ari.records import CallRecord


@dataclass(frozen=True, kw_only=True)
class Start:
    """Take up a call that waits in Stasis: a new arrival, or one recovered after a loss."""

    arrival: ev.CallArrived
    recovered: bool


@dataclass(frozen=True, kw_only=True)
class Adopt:
    """Follow again a call an earlier run left unfinished."""

    record: CallRecord
    ended_at: datetime | None  # None: the channel is still up


Item = Start | Adopt | ev.FlowEvent


class CallWorker:
    """The queue and state of one call; only the controller's task for it takes items out."""

    def __init__(self, channel_id: str, connection: int) -> None:
        self.channel_id = channel_id
        self.connection = connection  # the ARI connection it started on (restarts.py)
        self.queue: asyncio.Queue[Item] = asyncio.Queue()
        self.call: Call | None = None
        self.task: asyncio.Task[None] | None = None
        self.released = asyncio.Event()  # set once the call is past the consent step
        self.busy = False  # handling an event (not waiting for one, nor for a file to close)
        self.timer: asyncio.TimerHandle | None = None  # a StartTimer's pending KeyTimeout

    def start_timer(self, seconds: float, clock: Callable[[], datetime]) -> None:
        """Queue a ``KeyTimeout`` after ``seconds``, replacing a timer already running."""
        if self.timer is not None:
            self.timer.cancel()

        def expire() -> None:
            self.timer = None
            self.queue.put_nowait(ev.KeyTimeout(at=clock()))

        self.timer = asyncio.get_running_loop().call_later(seconds, expire)
