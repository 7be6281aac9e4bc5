"""Carries out the commands of one flow step for a call, in order, as the controller asks.

Each command becomes its effect (``effects.send``, a recording settled, a key timer, an agent
command); the first one the flow must hear about (a refusal, a confirmed continue, a gone
channel) ends the batch and is returned for the controller to feed back into the flow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import structlog

from callrec_ari.ari.port import AriPort
from callrec_ari.errors import AriError, ChannelGoneError
from callrec_ari.flow import commands as cmd
from callrec_ari.flow import events as ev
from callrec_ari.flow.agent_follow import AgentFollow
from callrec_ari.flow.effects import Settle, recording_settled, send
from callrec_ari.flow.restarts import AsteriskStarts
from callrec_ari.flow.worker import CallWorker

log = structlog.get_logger(__name__)

# Commands of one batch that may go to Asterisk without waiting for each answer when the
# port carries requests out in order (AriPort.in_order); none of them needs the one before.
_SENT_TOGETHER = (cmd.Answer, cmd.Play, cmd.Subscribe)


def _log_crash(task: asyncio.Task[ev.FlowEvent | None]) -> None:
    """A command sent with others whose outcome no one waits for any more: a crash is logged."""
    if not task.cancelled() and task.exception() is not None:
        log.error("call.command_crashed", exc_info=task.exception())


class CommandRunner:
    """Runs the flow's commands against Asterisk, the recordings and the agents."""

    def __init__(
        self,
        *,
        ari_port: AriPort,
        calls: Mapping[str, CallWorker],
        agents: AgentFollow,
        settle: Settle,
        recordings_dir: Path,
        quiet_seconds: float,
        starts: AsteriskStarts,
        clock: Callable[[], datetime],
    ) -> None:
        self._ari = ari_port
        self._calls = calls  # the controller's calls in progress, read only
        self._agents = agents
        self._settle = settle
        self._recordings_dir = recordings_dir
        self._quiet_seconds = quiet_seconds  # how long a file left by a crash stays unchanged
        self._starts = starts
        self._clock = clock

    async def run(self, channel_id: str, commands: Sequence[cmd.Command]) -> ev.FlowEvent | None:
        """Run one step's commands in order; return the first event the flow must hear, which
        ends the batch, or ``None`` once every command has run."""
        if (
            len(commands) > 1
            and self._ari.in_order
            and all(isinstance(command, _SENT_TOGETHER) for command in commands)
        ):
            # Answer, play and subscribe are sent at once: Asterisk carries them out in turn,
            # and the announcement starts right after the answer instead of a round trip
            # through callrec later.
            pending = [
                asyncio.create_task(self.execute(channel_id, command)) for command in commands
            ]
        else:
            pending = []
        for index, command in enumerate(commands):
            if pending:
                follow_up = await pending[index]
            else:
                follow_up = await self.execute(channel_id, command)
            if follow_up is not None:
                # A reaction ends the batch: after a refusal the rest would be wrong, and a
                # confirmed continue is always a batch's last command. Requests already sent
                # finish unheard: the flow reacts to the first failure only.
                for task in pending[index + 1 :]:
                    task.add_done_callback(_log_crash)
                return follow_up
        return None

    async def execute(self, channel_id: str, command: cmd.Command) -> ev.FlowEvent | None:
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
            timed = self._calls.get(channel_id)
            if timed is not None:
                timed.start_timer(command.seconds, self._clock)
            return None
        if isinstance(command, cmd.FollowAgent | cmd.FindAgents | cmd.TellAgent):
            return await self._agents.run(channel_id, command)
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
