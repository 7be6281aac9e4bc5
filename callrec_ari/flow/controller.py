"""Runs the consent flow against Asterisk: one queue and one task per call.

Events of one call are handled strictly in order; calls run concurrently. The controller
translates ARI events into flow events, executes the commands the flow returns, and hands
every changed call record to ``submit`` (the database writer), which never blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import structlog

from callrec_ari.ari import models as ari
from callrec_ari.ari.port import AriPort
from callrec_ari.errors import AriError, ChannelGoneError, RecordingError
from callrec_ari.flow import commands as cmd
from callrec_ari.flow import events as ev
from callrec_ari.flow.arrival import (
    STASIS,
    STASIS_BROADCAST,
    agent_of,
    arrival_from,
    stasis_args,
    translate,
)
from callrec_ari.flow.call import BEFORE_CONNECTION, Call, Phase
from callrec_ari.flow.dialplan_paths import DialplanPaths
from callrec_ari.flow.effects import Settle, recording_settled, send
from callrec_ari.flow.outbound import OutboundFlow
from callrec_ari.flow.overload import Admission, Verdict
from callrec_ari.flow.restarts import AsteriskStarts
from callrec_ari.flow.states import ConsentFlow
from callrec_ari.flow.whisper import Whisper, is_snoop
from callrec_ari.metrics import Metrics
from callrec_ari.recording.paths import service_path
from callrec_ari.recording.repair import QUIET_SECONDS
from callrec_ari.records import CallRecord

log = structlog.get_logger(__name__)


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class _Start:
    arrival: ev.CallArrived
    recovered: bool


@dataclass(frozen=True, kw_only=True)
class _Adopt:
    record: CallRecord
    ended_at: datetime | None  # None: the channel is still up


_Item = _Start | _Adopt | ev.FlowEvent
# Commands of one batch that may go to Asterisk without waiting for each answer when the
# port carries requests out in order (AriPort.in_order); none of them needs the one before.
_SENT_TOGETHER = (cmd.Answer, cmd.Play, cmd.Subscribe)


def _log_crash(task: asyncio.Task[ev.FlowEvent | None]) -> None:
    """A command sent with others whose outcome no one waits for any more: a crash is logged."""
    if not task.cancelled() and task.exception() is not None:
        log.error("call.command_crashed", exc_info=task.exception())


# An agent's hang-up usually ends the call a moment later (Dial returns, the dialplan ends);
# only a caller still on after this long may have been passed to someone (a transfer).
FIND_AGENTS_AFTER_SECONDS = 0.5
Unfinished = Callable[[], Awaitable[list[CallRecord]]]


class _Worker:
    def __init__(self, channel_id: str, connection: int) -> None:
        self.channel_id = channel_id
        self.connection = connection  # the ARI connection it started on (restarts.py)
        self.queue: asyncio.Queue[_Item] = asyncio.Queue()
        self.call: Call | None = None
        self.task: asyncio.Task[None] | None = None
        self.released = asyncio.Event()  # set once the call is past the consent step
        self.busy = False  # handling an event (not waiting for one, nor for a file to close)
        self.timer: asyncio.TimerHandle | None = None  # a StartTimer's pending KeyTimeout


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
        self._follow_agents = follow_agents  # [dialplan] follow_agents
        # How long after an agent hangs up to ask who the caller is with (None: at once).
        self._find_agents_after = find_agents_after
        self._finding: set[asyncio.Task[None]] = set()  # background work (_background)
        self._recordings_dir = recordings_dir
        self._submit = submit
        self._settle = settle
        self._do_not_record = do_not_record
        self._unfinished = unfinished  # asked once, at the first connection
        self._clock = clock
        self._admission = admission  # None: every call goes through the consent step
        self._monotonic = monotonic
        self._metrics = metrics or Metrics()
        self._quiet_seconds = quiet_seconds  # how long a file left by a crash stays unchanged
        self._calls: dict[str, _Worker] = {}
        # Agents' channels followed (cmd.FollowAgent) -> the caller's channel of their call.
        self._agents: dict[str, str] = {}
        self._lost_sight: list[_Worker] | None = None  # taken when a connection opens
        self._starts = AsteriskStarts(ari)
        self._paths = DialplanPaths(ari, lambda: self._flow.settings, monotonic)
        self._whisper = Whisper(ari, self._told, clock)  # the agent tone (cmd.TellAgent)
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
        if self._whisper.takes(event):
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
                self._spawn(arrival.channel_id, _Start(arrival=arrival, recovered=False))
            return
        caller = self._agents.get(event.channel_id)
        if caller is not None:
            # An agent's channel: only its end matters (the caller's channel reports the rest).
            if isinstance(event, ari.ChannelDestroyed):
                del self._agents[event.channel_id]
                worker = self._calls.get(caller)
                if worker is not None:
                    left = ev.AgentLeft(at=event.timestamp, channel_id=event.channel_id)
                    worker.queue.put_nowait(left)
            return
        worker = self._calls.get(event.channel_id)
        flow_event = translate(event)
        if worker is not None and flow_event is not None:
            worker.queue.put_nowait(flow_event)

    def connection_opened(self) -> None:
        """A new connection is open and no event of it has been read yet: the calls followed
        now are the ones the lost connection may have hidden events of (``reconcile``)."""
        self._lost_sight = list(self._calls.values())
        self._starts.opened()

    async def reconcile(self) -> None:
        """After (re)connecting: filter events, settle calls we lost sight of, free leftovers."""
        # Only the calls of the lost connection: a call that arrives on the new one, even
        # before this runs, was seen from its start and goes on as usual.
        lost_sight, self._lost_sight = self._lost_sight, None
        if lost_sight is None:
            lost_sight = list(self._calls.values())
        try:
            # Without the filter Asterisk sends dozens of events per call we would only drop.
            await self._ari.set_event_filter(ari.EVENT_TYPES)
        except AriError as exc:
            log.warning("ari.event_filter_refused", error=str(exc))
        await self._starts.check()  # a restart frees recordings a dead Asterisk left open
        await self._paths.check()
        now = self._clock()
        for worker in lost_sight:
            phase = worker.call.phase if worker.call else None
            if phase in (Phase.ANNOUNCING, Phase.DECLINING, Phase.AWAITING_KEY):
                worker.queue.put_nowait(ev.Interrupted(at=now))
            elif phase == Phase.CONNECTED and worker.call is not None:
                try:
                    await self._ari.get_channel(worker.channel_id)
                except ChannelGoneError:
                    # Unseen: Asterisk may have died. The call ended when its audio did.
                    ended = self._last_write(worker.call.record) or now
                    worker.queue.put_nowait(ev.ChannelEnded(at=ended, lost=True))
        await self.recover(await self._ari.app_channel_ids())
        if self._unfinished is not None:
            unfinished, self._unfinished = self._unfinished, None
            await self.adopt(await unfinished())

    async def recover(self, channel_ids: Iterable[str]) -> list[str]:
        """Let through unrecorded every one of these channels that waits in ``Stasis()`` with
        nobody handling it (ours after a reconnect, or a dead instance's); return their ids.

        A channel that already left Stasis (a call in conversation its application still
        follows) is left alone: ``adopt`` follows it from its row.
        """
        recovered = []
        for channel_id in channel_ids:
            if channel_id in self._calls:
                continue
            try:
                channel = await self._ari.get_channel(channel_id)
            except ChannelGoneError:
                continue
            if channel_id in self._calls:
                continue  # its StasisStart came in while we asked: that worker has it
            if channel.app_name and channel.app_name not in (STASIS, STASIS_BROADCAST):
                continue
            if is_snoop(channel):
                continue  # an agent tone's snoop: hung up by its StasisStart or its agent
            arrival = arrival_from(channel, stasis_args(channel), channel.created)
            log.warning("call.recovered", call_id=channel_id)
            self._spawn(channel_id, _Start(arrival=arrival, recovered=True))
            recovered.append(channel_id)
        return recovered

    async def adopt(self, records: list[CallRecord]) -> None:
        """Follow again the unfinished calls of an earlier run (from the journal or database).

        A call whose channel is gone is ended at its recording's last write (else now) and its
        recording settled; one still up is subscribed to and followed until it ends.
        """
        for record in records:
            if record.uniqueid in self._calls or record.finished:
                continue
            ended_at = record.ended_at
            if ended_at is None:
                try:
                    await self._ari.get_channel(record.uniqueid)
                except ChannelGoneError:
                    ended_at = self._last_write(record) or self._clock()
                except AriError as exc:
                    log.warning("call.not_adopted", call_id=record.uniqueid, error=str(exc))
                    continue
            if record.uniqueid in self._calls:
                continue  # taken up by an event while we asked Asterisk about it
            log.warning("call.adopted", call_id=record.uniqueid, ended=ended_at is not None)
            self._spawn(record.uniqueid, _Adopt(record=record, ended_at=ended_at))

    def _last_write(self, record: CallRecord) -> datetime | None:
        if record.recording_path is None:
            return None
        try:
            path = service_path(self._recordings_dir, record.recording_path)
            return datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except (RecordingError, OSError):
            return None

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
        await self._whisper.close()
        tasks = [w.task for w in self._calls.values() if w.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if tasks:
            log.warning("calls.left_unfinished_at_stop", calls=len(tasks))

    def _spawn(self, channel_id: str, start: _Start | _Adopt) -> None:
        if channel_id in self._calls:
            # One call, one worker: a second would answer and record the call twice.
            log.warning("call.already_followed", call_id=channel_id, start=type(start).__name__)
            return
        worker = _Worker(channel_id, self._starts.connection)
        worker.queue.put_nowait(start)
        self._calls[channel_id] = worker
        self._idle.clear()
        worker.task = asyncio.create_task(self._run(worker), name=f"call-{channel_id}")

    async def _run(self, worker: _Worker) -> None:
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
            for agent, caller in list(self._agents.items()):
                if caller == worker.channel_id:
                    del self._agents[agent]
            if self._calls.get(worker.channel_id) is worker:
                del self._calls[worker.channel_id]
            if not self._calls:
                self._idle.set()

    async def _apply(self, worker: _Worker, item: _Item) -> None:
        if isinstance(item, _Adopt):
            step = self._flow.adopt(item.record, ended_at=item.ended_at)
        elif isinstance(item, _Start):
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
        self, worker: _Worker, step: tuple[Call, list[cmd.Command]], cause: object
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
        if (
            len(commands) > 1
            and self._ari.in_order
            and all(isinstance(command, _SENT_TOGETHER) for command in commands)
        ):
            # Answer, play and subscribe are sent at once: Asterisk carries them out in turn,
            # and the announcement starts right after the answer instead of a round trip
            # through callrec later.
            pending = [
                asyncio.create_task(self._execute(worker.channel_id, command))
                for command in commands
            ]
        else:
            pending = []
        for index, command in enumerate(commands):
            if pending:
                follow_up = await pending[index]
            else:
                follow_up = await self._execute(worker.channel_id, command)
            if follow_up is not None:
                # A reaction ends the batch: after a refusal the rest would be wrong, and a
                # confirmed continue is always a batch's last command. Requests already sent
                # finish unheard: the flow reacts to the first failure only.
                for task in pending[index + 1 :]:
                    task.add_done_callback(_log_crash)
                await self._take(worker, self._handle(call, follow_up), follow_up)
                return

    async def _execute(self, channel_id: str, command: cmd.Command) -> ev.FlowEvent | None:
        """Run one command; return what the flow must hear about it, if anything."""
        if isinstance(command, cmd.AwaitRecording):
            worker = self._calls.get(channel_id)
            if worker is not None:
                worker.busy = False  # waiting for Asterisk to close the file, not working
            try:
                return await recording_settled(
                    self._settle,
                    self._recordings_dir,
                    command,
                    quiet_seconds=self._quiet_seconds,
                    starts=self._starts,
                    mark=worker.connection if worker is not None else self._starts.connection,
                )
            finally:
                if worker is not None:
                    worker.busy = True
        if isinstance(command, cmd.StartTimer):
            self._start_timer(channel_id, command.seconds)
            return None
        if isinstance(command, cmd.FollowAgent | cmd.FindAgents | cmd.TellAgent):
            return await self._agent_command(channel_id, command)
        try:
            await send(self._ari, channel_id, command)
        except ChannelGoneError as exc:
            log.info("call.channel_gone", command=type(command).__name__, status=exc.status)
            if isinstance(command, cmd.StopPlayback):
                return None  # the playback had just ended by itself
            return ev.ChannelGone(at=self._clock())
        except AriError as exc:
            log.error("call.command_failed", command=type(command).__name__, error=str(exc))
            return ev.CommandFailed(command=command, at=self._clock())
        if isinstance(command, cmd.Continue):
            return ev.Continued(at=self._clock())
        return None

    async def _agent_command(
        self, channel_id: str, command: cmd.FollowAgent | cmd.FindAgents | cmd.TellAgent
    ) -> ev.FlowEvent | None:
        """Run a command about the call's agents (none of them is a request on the caller's
        channel)."""
        if isinstance(command, cmd.FollowAgent):
            return await self._follow_agent(channel_id, command.channel_id)
        if isinstance(command, cmd.TellAgent):
            self._whisper.tell(channel_id, command)
            return None
        if self._find_agents_after is None:
            return await self._find_agents(channel_id)
        self._find_later(channel_id, self._find_agents_after)
        return None

    async def _follow_agent(self, channel_id: str, agent_channel: str) -> ev.FlowEvent | None:
        """Subscribe to an agent's channel so its hang-up reaches the call as ``AgentLeft``;
        not followed, the agent's leg ends with the call."""
        if not self._follow_agents:
            return None
        self._agents[agent_channel] = channel_id
        try:
            await self._ari.subscribe(agent_channel)
        except ChannelGoneError:
            self._agents.pop(agent_channel, None)
            return ev.AgentLeft(at=self._clock(), channel_id=agent_channel)
        except AriError as exc:
            # The leg then ends with the call: its end is late, never lost.
            self._agents.pop(agent_channel, None)
            log.warning("call.agent_not_followed", agent_channel=agent_channel, error=str(exc))
        return None

    def _told(self, caller: str, told: ev.AgentTold) -> None:
        """What became of an agent tone goes to its call, if the call is still followed."""
        worker = self._calls.get(caller)
        if worker is not None:
            worker.queue.put_nowait(told)

    def _find_later(self, channel_id: str, seconds: float) -> None:
        """Ask who the caller is with after ``seconds``, unless the call has ended by then:
        most often an agent hangs up and Asterisk hangs the caller up a moment later, and the
        question lists every bridge in Asterisk."""
        worker = self._calls.get(channel_id)

        async def find() -> None:
            await asyncio.sleep(seconds)
            if worker is None or self._calls.get(channel_id) is not worker:
                return
            if worker.call is None or worker.call.record.ended_at is not None:
                return
            found = await self._find_agents(channel_id)
            if found is not None and self._calls.get(channel_id) is worker:
                worker.queue.put_nowait(found)

        self._background(find())

    def _background(self, work: Awaitable[object]) -> None:
        """Run ``work`` beside the calls, keeping a reference until it is done."""

        async def run() -> None:
            await work

        task = asyncio.create_task(run())
        self._finding.add(task)
        task.add_done_callback(self._finding.discard)

    async def _find_agents(self, channel_id: str) -> ev.FlowEvent | None:
        """Who the caller is bridged with now, as ``AgentsFound``."""
        try:
            bridged = await self._ari.bridged_with(channel_id)
        except ChannelGoneError:
            return None  # the caller hung up too: the call's end closes every leg
        except AriError as exc:
            log.warning("call.agents_not_found", error=str(exc))
            return None
        found = tuple((channel.id, agent_of(channel)) for channel in bridged)
        return ev.AgentsFound(at=self._clock(), found=found) if found else None

    def _start_timer(self, channel_id: str, seconds: float) -> None:
        worker = self._calls.get(channel_id)
        if worker is None:
            return
        if worker.timer is not None:
            worker.timer.cancel()

        def expire() -> None:
            worker.timer = None
            worker.queue.put_nowait(ev.KeyTimeout(at=self._clock()))

        worker.timer = asyncio.get_running_loop().call_later(seconds, expire)
