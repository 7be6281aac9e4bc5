"""What the flow's commands do outside: ARI requests, and a recording waited for and measured.

The controller decides when; this module only turns one command into its effect, so the
ARI port and the file system are touched in one place each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import Protocol

import structlog

from callrec_ari.ari.port import AriPort
from callrec_ari.flow import commands as cmd
from callrec_ari.flow import events as ev
from callrec_ari.flow.restarts import AsteriskStarts
from callrec_ari.recording.finalise import Settled, recording_closed
from callrec_ari.recording.paths import service_path
from callrec_ari.recording.repair import QUIET_SECONDS, repair_left_by_crash
from callrec_ari.records import RecordingStatus

log = structlog.get_logger(__name__)


class Settle(Protocol):
    """Wait for a recording to close and measure it, or with ``discard`` delete it."""

    def __call__(self, path: Path, *, discard: bool = False) -> Awaitable[Settled]:
        """Settle the recording at ``path``."""


async def send(port: AriPort, channel_id: str, command: cmd.Command) -> None:
    """Send one channel command to Asterisk (timers and recordings are not sent)."""
    match command:
        case cmd.Answer():
            await port.answer(channel_id)
        case cmd.Play():
            await port.play(
                channel_id,
                command.media,
                language=command.language,
                playback_id=command.playback_id,
            )
        case cmd.StopPlayback():
            await port.stop_playback(command.playback_id)
        case cmd.Subscribe():
            await port.subscribe(channel_id)
        case cmd.SetVariables():
            await port.set_variables(channel_id, command.variables)
        case cmd.Continue():
            await port.continue_in_dialplan(channel_id, command.context)
        case cmd.Hangup():
            await port.hangup(channel_id)


async def recording_settled(
    settle: Settle,
    recordings_dir: Path,
    command: cmd.AwaitRecording,
    *,
    quiet_seconds: float = QUIET_SECONDS,
    starts: AsteriskStarts | None = None,
    mark: int = 0,
) -> ev.RecordingSettled:
    """Wait for the call's recording to close, measure it (or delete it), and say how it went.

    A recording whose channel vanished unseen (``lost``) and that nothing writes any more is
    repaired first if Asterisk left it open (``repair.py``), so it settles at once; so is one
    still waited for when Asterisk is seen restarted since the call's connection ``mark``
    (``settled_unless_restarted``).
    """
    path = service_path(recordings_dir, command.path)
    if command.lost:
        await repair_left_by_crash(path, quiet_seconds=quiet_seconds)
    if starts is None or command.lost or command.discard:
        settled = await settle(path, discard=command.discard)
    else:
        settled = await settled_unless_restarted(
            settle, path, starts, mark, quiet_seconds=quiet_seconds
        )
    if settled.reason:
        log.warning("recording.not_complete", status=settled.status, reason=settled.reason)
    facts, caller, agent = settled.facts, settled.caller_leg, settled.agent_leg
    log.debug(  # the call's end is logged at info as call.finished, with the duration
        "recording.settled",
        status=settled.status,
        duration=facts.duration_seconds if facts else None,
    )
    return ev.RecordingSettled(
        status=settled.status,
        duration_seconds=facts.duration_seconds if facts else None,
        size_bytes=facts.size_bytes if facts else None,
        sha256=facts.sha256 if facts else None,
        withdrawn_at=settled.withdrawn_at,
        caller_leg_size_bytes=caller.size_bytes if caller else None,
        caller_leg_sha256=caller.sha256 if caller else None,
        agent_leg_size_bytes=agent.size_bytes if agent else None,
        agent_leg_sha256=agent.sha256 if agent else None,
        interrupted_by=settled.interrupted_by,
    )


async def settled_unless_restarted(
    settle: Settle, path: Path, starts: AsteriskStarts, mark: int, *, quiet_seconds: float
) -> Settled:
    """``settle``, unless Asterisk restarts (``restarts.py``) before MixMonitor has closed the
    file: then nothing will close it, so it is repaired like a lost call's and settled.

    A wait that runs out while Asterisk cannot be reached waits for the next connection to
    tell whether Asterisk restarted, instead of giving the recording up as ``failed``.
    """
    settling = asyncio.ensure_future(settle(path))
    restart = asyncio.ensure_future(starts.wait_restart(mark))
    try:
        await asyncio.wait((settling, restart), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (settling, restart):
            if not task.done():
                task.cancel()
        outcome = (await asyncio.gather(settling, restart, return_exceptions=True))[0]
    if isinstance(outcome, Settled):
        if not _left_open(outcome, path) or not await starts.decided(mark):
            return outcome
    elif not isinstance(outcome, asyncio.CancelledError):
        raise outcome
    log.warning("recording.left_open_by_restarted_asterisk")
    await repair_left_by_crash(path, quiet_seconds=quiet_seconds)
    return await settle(path)


def _left_open(settled: Settled, path: Path) -> bool:
    """Whether ``settled`` is a wait that ran out on a file still open."""
    return (
        settled.status == RecordingStatus.FAILED
        and settled.facts is None
        and recording_closed(path) is False
    )
