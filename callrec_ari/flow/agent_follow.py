"""The agents of the calls in progress: whose channels we follow, who the caller is with now,
and the tone an agent hears (``Whisper``).

Runs the flow's agent commands (``FollowAgent``, ``FindAgents``, ``TellAgent``), none of which
is a request on the caller's channel, and turns what comes back into the call's events
(``AgentLeft``, ``AgentsFound``, ``AgentTold``), put on the call's queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

import structlog

from callrec_ari.ari import models as ari
from callrec_ari.ari.port import AriPort
from callrec_ari.errors import AriError, ChannelGoneError
from callrec_ari.flow import commands as cmd
from callrec_ari.flow import events as ev
from callrec_ari.flow.arrival import agent_of
from callrec_ari.flow.whisper import Whisper
from callrec_ari.flow.worker import CallWorker

log = structlog.get_logger(__name__)

# An agent's hang-up usually ends the call a moment later (Dial returns, the dialplan ends);
# only a caller still on after this long may have been passed to someone (a transfer).
FIND_AGENTS_AFTER_SECONDS = 0.5

AgentCommand = cmd.FollowAgent | cmd.FindAgents | cmd.TellAgent


class AgentFollow:
    """The agents' channels followed and the agent tones playing; the controller owns one."""

    def __init__(
        self,
        *,
        ari_port: AriPort,
        calls: Mapping[str, CallWorker],
        clock: Callable[[], datetime],
        background: Callable[[Awaitable[object]], None],
        follow: bool,
        find_after: float | None,
    ) -> None:
        self._ari = ari_port
        self._calls = calls  # the controller's calls in progress, read only
        self._clock = clock
        self._background = background
        self._follow = follow  # [dialplan] follow_agents
        # How long after an agent hangs up to ask who the caller is with (None: at once).
        self._find_after = find_after
        # Agents' channels followed (cmd.FollowAgent) -> the caller's channel of their call.
        self._agents: dict[str, str] = {}
        self._whisper = Whisper(ari_port, self._told, clock)  # the agent tone (cmd.TellAgent)

    def takes_tone(self, event: ari.AriEvent) -> bool:
        """Whether ``event`` is about a snoop telling an agent the call is recorded (handled
        here, not a call)."""
        return self._whisper.takes(event)

    def takes(self, event: ari.AriEvent) -> bool:
        """Whether ``event`` is about a followed agent's channel (handled here)."""
        caller = self._agents.get(event.channel_id)
        if caller is None:
            return False
        # Only the agent's end matters (the caller's channel reports the rest).
        if isinstance(event, ari.ChannelDestroyed):
            del self._agents[event.channel_id]
            worker = self._calls.get(caller)
            if worker is not None:
                left = ev.AgentLeft(at=event.timestamp, channel_id=event.channel_id)
                worker.queue.put_nowait(left)
        return True

    async def run(self, channel_id: str, command: AgentCommand) -> ev.FlowEvent | None:
        """Run a command about the call's agents; return what the flow must hear at once."""
        if isinstance(command, cmd.FollowAgent):
            return await self._follow_agent(channel_id, command.channel_id)
        if isinstance(command, cmd.TellAgent):
            self._whisper.tell(channel_id, command)
            return None
        if self._find_after is None:
            return await self._find_agents(channel_id)
        self._find_later(channel_id, self._find_after)
        return None

    def forget(self, caller: str) -> None:
        """The call on ``caller`` is over: its agents' events no longer go anywhere."""
        for agent, followed in list(self._agents.items()):
            if followed == caller:
                del self._agents[agent]

    async def close(self) -> None:
        """Stop the agent tones still playing (service shutdown)."""
        await self._whisper.close()

    async def _follow_agent(self, channel_id: str, agent_channel: str) -> ev.FlowEvent | None:
        """Subscribe to an agent's channel so its hang-up reaches the call as ``AgentLeft``;
        not followed, the agent's leg ends with the call."""
        if not self._follow:
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
