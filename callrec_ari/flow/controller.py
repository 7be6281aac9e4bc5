"""Runs the consent flow against Asterisk: one queue and one task per call.

Events of one call are handled strictly in order; calls run concurrently. The controller
translates ARI events into flow events, has the commands the flow returns carried out
(``command_runner``), and hands every changed call record to ``submit`` (the database
writer), which never blocks. It owns the parts that follow the calls' agents
(``agent_follow``) and settle what a lost connection left (``reconcile``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import structlog

from callrec_ari.ari import models as ari
from callrec_ari.ari.port import AriPort
from callrec_ari.flow import commands as cmd
from callrec_ari.flow import events as ev
from callrec_ari.flow.agent_follow import FIND_AGENTS_AFTER_SECONDS, AgentFollow
from callrec_ari.flow.arrival import arrival_from, translate
from callrec_ari.flow.call import BEFORE_CONNECTION, Call, Phase
from callrec_ari.flow.command_runner import CommandRunner
from callrec_ari.flow.dialplan_paths import DialplanPaths
from callrec_ari.flow.effects import Settle
from callrec_ari.flow.outbound import OutboundFlow
from callrec_ari.flow.overload import Admission, Verdict
from callrec_ari.flow.reconcile import Reconciler, Unfinished
from callrec_ari.flow.restarts import AsteriskStarts
from callrec_ari.flow.states import ConsentFlow
from callrec_ari.flow.worker import Adopt, CallWorker, Item, Start
from callrec_ari.metrics import Metrics
from callrec_ari.recording.repair import QUIET_SECONDS
from callrec_ari.records import CallRecord

log = structlog.get_logger(__name__)


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class CallController:
    """Owns every call in progress."""

    def __init__(
        self,
        *,
        ari: AriPort,
        flow: ConsentFlow,
        recordings_dir: Path,
        submit: Callable[[CallRecord], None],
        settle: Settle,
        do_not_record: Callable[[str | None], bool] = lambda _number: False,
        unfinished: Unfinished | None = None,
        clock: Callable[[], datetime] = utc_now,
        admission: Admission | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        metrics: Metrics | None = None,
        quiet_seconds: float = QUIET_SECONDS,
        follow_agents: bool = True,
        find_agents_after: float | None = FIND_AGENTS_AFTER_SECONDS,
    ) -> None:
        self._ari = ari
        self._flow = flow
        self._background_tasks: set[asyncio.Task[None]] = set()  # (_background)
        self._submit = submit
        self._do_not_record = do_not_record
        self._clock = clock
        self._admission = admission  # None: every call goes through the consent step
        self._monotonic = monotonic
        self._metrics = metrics or Metrics()
        self._calls: dict[str, CallWorker] = {}
        self._starts = AsteriskStarts(ari)
        self._paths = DialplanPaths(ari, lambda: self._flow.settings, monotonic)
        self._agents = AgentFollow(
            ari_port=ari,
            calls=self._calls,
            clock=clock,
            background=self._background,
            follow=follow_agents,
            find_after=find_agents_after,
        )
        self._commands = CommandRunner(
            ari_port=ari,
            calls=self._calls,
            agents=self._agents,
            settle=settle,
            recordings_dir=recordings_dir,
            quiet_seconds=quiet_seconds,
            starts=self._starts,
            clock=clock,
        )
        self._reconciler = Reconciler(
            ari_port=ari,
            calls=self._calls,
            spawn=self._spawn,
            starts=self._starts,
            paths=self._paths,
            recordings_dir=recordings_dir,
            clock=clock,
            unfinished=unfinished,
        )
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def events_pending(self) -> int:
        """Events queued or being handled; a call waiting for its recording to close, or for
        its next event, adds nothing. Zero means every event so far has had its effect."""
        return sum(w.queue.qsize() + w.busy for w in self._calls.values())

    @property
    def active(self) -> int:
        """How many calls are in progress (including those whose recording is being settled)."""
        return len(self._calls)

    def phase_of(self, channel_id: str) -> Phase | None:
        """The phase of a call in progress, or ``None`` if the controller does not have it."""
        worker = self._calls.get(channel_id)
        return worker.call.phase if worker and worker.call else None

    @property
    def flow(self) -> ConsentFlow:
        """The flow new calls are routed by."""
        return self._flow

    def use_flow(self, flow: ConsentFlow) -> None:
        """Route new calls with ``flow`` (new routes or policies); calls already under way
        keep the route they started with, which their state carries."""
        self._flow = flow

    async def wait_idle(self) -> None:
        """Return once no call is in progress."""
        await self._idle.wait()

    def on_event(self, event: ari.AriEvent) -> None:
        """Route one ARI event to its call's queue; never blocks."""
        if self._agents.takes_tone(event):
            return  # a snoop channel telling an agent the call is recorded, not a call
        if isinstance(event, ari.StasisStart):
            if event.channel_id not in self._calls:
                arrival = arrival_from(event.channel, event.args, event.timestamp)
                if self._do_not_record(arrival.caller_number):
                    arrival = replace(arrival, do_not_record=True)
                if not self._paths.usable:
                    arrival = replace(arrival, dialplan_start=None)
                if self._paths.due():
                    self._background(self._paths.check())
                self._spawn(arrival.channel_id, Start(arrival=arrival, recovered=False))
            return
        if self._agents.takes(event):
            return  # an agent's channel
        worker = self._calls.get(event.channel_id)
        flow_event = translate(event)
        if worker is not None and flow_event is not None:
            worker.queue.put_nowait(flow_event)

    def connection_opened(self) -> None:
        """A new connection is open and no event of it has been read yet: the calls followed
        now are the ones the lost connection may have hidden events of (``reconcile``)."""
        self._reconciler.connection_opened()

    async def reconcile(self) -> None:
        """After (re)connecting: filter events, settle calls we lost sight of, free leftovers."""
        await self._reconciler.reconcile()

    async def recover(self, channel_ids: Iterable[str]) -> list[str]:
        """Let through unrecorded every one of these channels that waits in ``Stasis()`` with
        nobody handling it (ours after a reconnect, or a dead instance's); return their ids."""
        return await self._reconciler.recover(channel_ids)

    async def adopt(self, records: list[CallRecord]) -> None:
        """Follow again the unfinished calls of an earlier run (from the journal or database)."""
        await self._reconciler.adopt(records)

    async def close(self, grace_seconds: float = 2.0) -> None:
        """Let calls still in the announcement through unrecorded, then stop every call task."""
        now = self._clock()
        waiting = [
            w
            for w in self._calls.values()
            if w.call is not None and w.call.phase in BEFORE_CONNECTION
        ]
        for worker in waiting:
            worker.queue.put_nowait(ev.Interrupted(at=now))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(w.released.wait() for w in waiting)), grace_seconds
            )
        await self._agents.close()
        tasks = [w.task for w in self._calls.values() if w.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if tasks:
            log.warning("calls.left_unfinished_at_stop", calls=len(tasks))

    def _spawn(self, channel_id: str, start: Start | Adopt) -> None:
        if channel_id in self._calls:
            # One call, one worker: a second would answer and record the call twice.
            log.warning("call.already_followed", call_id=channel_id, start=type(start).__name__)
            return
        worker = CallWorker(channel_id, self._starts.connection)
        worker.queue.put_nowait(start)
        self._calls[channel_id] = worker
        self._idle.clear()
        worker.task = asyncio.create_task(self._run(worker), name=f"call-{channel_id}")

    async def _run(self, worker: CallWorker) -> None:
        structlog.contextvars.bind_contextvars(call_id=worker.channel_id)
        try:
            while worker.call is None or worker.call.phase != Phase.DONE:
                item = await worker.queue.get()
                worker.busy = True
                try:
                    await self._apply(worker, item)
                finally:
                    worker.busy = False
        except asyncio.CancelledError:
            raise
        except Exception:
            # A bug in one call must not take the others down; the call itself goes on in
            # Asterisk, which is what fail-open asks for.
            log.exception("call.crashed")
        finally:
            if worker.timer is not None:
                worker.timer.cancel()
            worker.released.set()
            self._agents.forget(worker.channel_id)
            if self._calls.get(worker.channel_id) is worker:
                del self._calls[worker.channel_id]
            if not self._calls:
                self._idle.set()

    async def _apply(self, worker: CallWorker, item: Item) -> None:
        if isinstance(item, Adopt):
            step = self._flow.adopt(item.record, ended_at=item.ended_at)
        elif isinstance(item, Start):
            flow: ConsentFlow | OutboundFlow = self._flow
            if item.arrival.outbound:
                flow = OutboundFlow(self._flow)
            arrival = item.arrival
            verdict = None if item.recovered else self._admit(arrival)
            if verdict is not None:
                log.warning("call.overloaded", sign=verdict.sign, measured=verdict.measured)
                step = flow.overloaded(arrival, verdict.described)
            elif item.recovered:
                step = flow.recover(arrival)
            else:
                step = flow.start(arrival)
            # An outbound call's "dialled number" is the callee's: masked like a caller's.
            number_key = "number" if arrival.outbound else "dialled_number"
            log.info(
                "call.arrived",
                caller=arrival.caller_number or "",
                recovered=item.recovered,
                outbound=arrival.outbound,
                **{number_key: arrival.dialled_number},
            )
        elif worker.call is None:
            return
        else:
            step = self._handle(worker.call, item)
        await self._take(worker, step, item)

    def _admit(self, arrival: ev.CallArrived) -> Verdict | None:
        """Why this new call must be connected unrecorded at once, or None (it may wait for
        the consent step)."""
        if self._admission is None:
            return None
        limit = self._admission.limits.max_calls_in_consent
        in_consent = (
            sum(
                1
                for w in self._calls.values()
                if w.call is not None and w.call.phase in BEFORE_CONNECTION
            )
            if limit
            else 0
        )
        age = (self._clock() - arrival.at).total_seconds()
        return self._admission.admit(now=self._monotonic(), event_age=age, in_consent=in_consent)

    def _handle(self, call: Call, event: ev.FlowEvent) -> tuple[Call, list[cmd.Command]]:
        if call.outbound is not None:
            return OutboundFlow(self._flow).handle(call, event)
        return self._flow.handle(call, event)

    async def _take(
        self, worker: CallWorker, step: tuple[Call, list[cmd.Command]], cause: object
    ) -> None:
        before = worker.call
        call, commands = step
        worker.call = call
        if call.phase not in BEFORE_CONNECTION:
            worker.released.set()
        if worker.timer is not None and call.phase != Phase.AWAITING_KEY:
            worker.timer.cancel()  # the callee decided (or left) before it ran out
            worker.timer = None
        # A withdrawal changes the consent within one phase: logged like a transition.
        if before is None or (before.phase, before.record.consent) != (
            call.phase,
            call.record.consent,
        ):
            # Debug: several per call, and the arrival and the end are logged at info anyway.
            log.debug(
                "call.transition",
                from_phase=before.phase if before else None,
                to_phase=call.phase,
                cause=type(cause).__name__,
                consent=call.record.consent,
            )
        if call.stored and (before is None or before.record != call.record):
            self._submit(call.record)
            if call.record.finished and (before is None or not before.record.finished):
                self._metrics.call_finished(call.record)
                log.info(
                    "call.finished",
                    consent=call.record.consent,
                    recording=call.record.recording_status,
                    duration=call.record.duration_seconds,
                )
        follow_up = await self._commands.run(worker.channel_id, commands)
        if follow_up is not None:
            await self._take(worker, self._handle(call, follow_up), follow_up)

    def _background(self, work: Awaitable[object]) -> None:
        """Run ``work`` beside the calls, keeping a reference until it is done."""

        async def run() -> None:
            await work

        task = asyncio.create_task(run())
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)
