"""Telling an agent who took a call over that it is recorded, heard by them alone.

The agent's channel is in a bridge, not in our application, so nothing can be played on it
directly. ARI's way to speak to one party of a bridged call is a snoop channel: ``POST
/channels/{agent}/snoop/{id}`` with ``whisper=out`` puts a new channel into our application
whose audio is mixed into what the agent's channel sends its phone, and nowhere else: the
caller's channel and its MixMonitor never see it. Its ``StasisStart`` carries ``TONE_ARG``
and the caller's channel as arguments, which is how the controller tells it from a call::

    tell ─snoop─▶ (StasisStart) ─play─▶ (PlaybackFinished) ─hang the snoop up─▶ AgentTold

Nothing here may break the call: every failure is logged, the snoop is hung up, and the call
hears ``AgentTold(played=False)``. A snoop that is not done within ``limit_seconds`` (an agent
who hung up mid-tone, a lost event) is hung up then. Only a ``TellAgent`` starts any of this,
and the flow sends one only when an agent takes a call over: an ordinary call costs nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from callrec_ari.ari import models as ari
from callrec_ari.ari.port import AriPort
from callrec_ari.errors import AriError, ChannelGoneError
from callrec_ari.flow import commands as cmd
from callrec_ari.flow import events as ev

log = structlog.get_logger(__name__)

TONE_ARG = "agent-tone"  # Stasis arguments of a snoop: agent-tone,<caller's channel>
LIMIT_SECONDS = 10.0
Report = Callable[[str, ev.AgentTold], None]  # (caller's channel, what happened)


@dataclass(kw_only=True)
class _Snoop:
    caller: str  # the caller's channel: the call the outcome goes to
    command: cmd.TellAgent
    timer: asyncio.TimerHandle | None = None


def snoop_id_of(agent_channel: str) -> str:
    """The snoop channel's id: derived from the agent's, so a second ``TellAgent`` for the
    same agent is refused by Asterisk instead of whispering twice."""
    return f"{agent_channel}-tone"


def is_snoop(channel: ari.Channel) -> bool:
    """Whether a channel is a snoop (ours or anyone's), never a call to take up."""
    return channel.name.startswith("Snoop/")


class Whisper:
    """The snoops in progress, by snoop channel id; the controller owns one."""

    def __init__(
        self,
        ari_port: AriPort,
        report: Report,
        clock: Callable[[], datetime],
        *,
        limit_seconds: float = LIMIT_SECONDS,
    ) -> None:
        self._ari = ari_port
        self._report = report
        self._clock = clock
        self._limit = limit_seconds
        self._snoops: dict[str, _Snoop] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        """How many snoops have not finished."""
        return len(self._snoops)

    def tell(self, caller: str, command: cmd.TellAgent) -> None:
        """Start whispering ``command``'s media to its agent; never blocks, never raises."""
        snoop_id = snoop_id_of(command.channel_id)
        if snoop_id in self._snoops:
            return
        snoop = _Snoop(caller=caller, command=command)
        # Registered before the request: the StasisStart may come before its answer.
        self._snoops[snoop_id] = snoop
        snoop.timer = asyncio.get_running_loop().call_later(self._limit, self._expire, snoop_id)
        self._run(self._open(snoop_id, snoop))

    def takes(self, event: ari.AriEvent) -> bool:
        """Whether ``event`` is about one of our snoops (or a snoop left by an earlier run);
        if so it is handled here and the controller must not look at it."""
        if isinstance(event, ari.StasisStart):
            if not event.args or event.args[0] != TONE_ARG:
                return False
            if event.channel_id not in self._snoops:
                # Left by an earlier run or an instance that stopped: nothing to say any more.
                self._run(self._hang_up(event.channel_id))
                return True
        elif not self._snoops or event.channel_id not in self._snoops:
            return False
        self._on_event(event)
        return True

    async def close(self) -> None:
        """Stop every snoop in progress (service shutdown)."""
        for snoop_id in list(self._snoops):
            self._finish(snoop_id, played=False)
            await self._hang_up(snoop_id)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _on_event(self, event: ari.AriEvent) -> None:
        snoop_id = event.channel_id
        snoop = self._snoops[snoop_id]
        match event:
            case ari.StasisStart():
                self._run(self._play(snoop_id, snoop))
            case ari.PlaybackFinished():
                if event.failed:
                    log.warning("call.agent_tone_failed", agent_channel=snoop.command.channel_id)
                self._finish(snoop_id, played=not event.failed)
                self._run(self._hang_up(snoop_id))
            case ari.StasisEnd() | ari.ChannelDestroyed():
                # Gone before the tone ended: the agent hung up, or Asterisk ended it.
                self._finish(snoop_id, played=False)

    async def _open(self, snoop_id: str, snoop: _Snoop) -> None:
        try:
            await self._ari.snoop(
                snoop.command.channel_id, snoop_id, app_args=f"{TONE_ARG},{snoop.caller}"
            )
        except ChannelGoneError:
            log.info("call.agent_gone_before_tone", agent_channel=snoop.command.channel_id)
            self._finish(snoop_id, played=False)
        except AriError as exc:
            log.warning("call.agent_tone_refused", step="snoop", error=str(exc))
            self._finish(snoop_id, played=False)

    async def _play(self, snoop_id: str, snoop: _Snoop) -> None:
        try:
            await self._ari.play(
                snoop_id,
                snoop.command.media,
                language=snoop.command.language,
                playback_id=f"{snoop_id}-p",
            )
        except AriError as exc:
            log.warning("call.agent_tone_refused", step="play", error=str(exc))
            self._finish(snoop_id, played=False)
            await self._hang_up(snoop_id)

    def _expire(self, snoop_id: str) -> None:
        self._run(self._give_up(snoop_id))

    async def _give_up(self, snoop_id: str) -> None:
        if snoop_id in self._snoops:
            log.warning("call.agent_tone_timed_out", limit_seconds=self._limit)
            self._finish(snoop_id, played=False)
            await self._hang_up(snoop_id)

    async def _hang_up(self, snoop_id: str) -> None:
        try:
            await self._ari.hangup(snoop_id)
        except ChannelGoneError:
            pass  # it ended with the agent's channel
        except AriError as exc:
            log.warning("call.agent_tone_not_hung_up", error=str(exc))

    def _finish(self, snoop_id: str, *, played: bool) -> None:
        """Report the outcome once; the snoop is forgotten (its later events are ignored)."""
        snoop = self._snoops.pop(snoop_id, None)
        if snoop is None:
            return
        if snoop.timer is not None:
            snoop.timer.cancel()
        told = ev.AgentTold(
            at=self._clock(),
            channel_id=snoop.command.channel_id,
            agent=snoop.command.agent,
            played=played,
        )
        self._report(snoop.caller, told)

    def _run(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in the background, kept until it ends; an unexpected error is logged
        (it must not end the call, nor pass unnoticed)."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("call.agent_tone_crashed", error=repr(task.exception()))
