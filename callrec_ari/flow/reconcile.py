"""What a lost connection or an earlier run left behind, settled once a connection opens.

Events of the calls we followed may have been lost while disconnected: a call still in the
consent step is let through unrecorded, a connected one whose channel is gone is ended at its
recording's last write. Channels waiting in Stasis with nobody handling them are recovered,
and the unfinished calls of an earlier run (journal or database) adopted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import structlog

from callrec_ari.ari import models as ari
from callrec_ari.ari.port import AriPort
from callrec_ari.errors import AriError, ChannelGoneError, RecordingError
from callrec_ari.flow import events as ev
from callrec_ari.flow.arrival import STASIS, STASIS_BROADCAST, arrival_from, stasis_args
from callrec_ari.flow.call import Phase
from callrec_ari.flow.dialplan_paths import DialplanPaths
from callrec_ari.flow.restarts import AsteriskStarts
from callrec_ari.flow.whisper import is_snoop
from callrec_ari.flow.worker import Adopt, CallWorker, Start
from callrec_ari.recording.paths import service_path
from callrec_ari.records import CallRecord

log = structlog.get_logger(__name__)

Unfinished = Callable[[], Awaitable[list[CallRecord]]]


class Reconciler:
    """Brings the controller's calls in line with Asterisk after a (re)connection."""

    def __init__(
        self,
        *,
        ari_port: AriPort,
        calls: Mapping[str, CallWorker],
        spawn: Callable[[str, Start | Adopt], None],
        starts: AsteriskStarts,
        paths: DialplanPaths,
        recordings_dir: Path,
        clock: Callable[[], datetime],
        unfinished: Unfinished | None,
    ) -> None:
        self._ari = ari_port
        self._calls = calls  # the controller's calls in progress, read only
        self._spawn = spawn
        self._starts = starts
        self._paths = paths
        self._recordings_dir = recordings_dir
        self._clock = clock
        self._unfinished = unfinished  # asked once, at the first connection
        self._lost_sight: list[CallWorker] | None = None  # taken when a connection opens

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
            self._spawn(channel_id, Start(arrival=arrival, recovered=True))
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
            self._spawn(record.uniqueid, Adopt(record=record, ended_at=ended_at))

    def _last_write(self, record: CallRecord) -> datetime | None:
        """When the call's recording was last written to, if its file is there."""
        if record.recording_path is None:
            return None
        try:
            path = service_path(self._recordings_dir, record.recording_path)
            return datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except (RecordingError, OSError):
            return None
