"""Importing the register: rename, read, hand the calls to the writer, delete once stored.

Asterisk appends to ``register_file`` one line at a time (FILE() opens, writes and closes it),
so the file is taken over by renaming it to ``<name>.importing``: Asterisk's next line
creates a fresh file, and a line whose write had begun before the rename lands in the
renamed file, which is read only after a short pause for that reason. The ``.importing``
file is deleted only once the writer reports every snapshot stored in the database; until
then, and after a crash, it is imported again at the next round (before the live file is
taken over, so an end line is never read before its start line). Storing is an upsert by
``uniqueid``, so importing a file twice changes nothing, and a call whose start and end
lines fell into two files ends up with its complete row.

Several instances sharing one register (README, "Two instances") each rename it to an
``.importing-<instance>`` of their own, so none ever deletes a file another has not stored;
an instance taking over a dead one also takes over its ``.importing`` file (``adopt``).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import structlog

from callrec_ari.agent_legs import Legs, all_left
from callrec_ari.config import Settings
from callrec_ari.evidence.facts import UNAVAILABLE, Fact, Kind
from callrec_ari.lifecycle.retention import delete_after
from callrec_ari.numbers import to_e164
from callrec_ari.records import CallRecord, Consent, Direction, RecordingStatus
from callrec_ari.register.agents import RegisterAgent, legs_by_call, parse_entry
from callrec_ari.register.lines import BadLineError, RegisterCall, latest_per_call

log = structlog.get_logger(__name__)

IMPORTING_SUFFIX = ".importing"
_SETTLE_SECONDS = 0.5  # far longer than one FILE() append takes
_FLUSH_SECONDS = 10.0


class _Found(enum.Enum):
    NOTHING = "nothing"
    LEFTOVER = "leftover"  # an .importing file from an earlier round or a crash
    RENAMED = "renamed"  # the live file, just taken over


class RegisterImporter:
    """Takes over and imports the register file; one ``import_once`` at a time."""

    def __init__(
        self,
        path: Path,
        *,
        submit: Callable[[CallRecord], None],
        flush: Callable[[float], Awaitable[bool]],
        settings: Callable[[], Settings],
        stored: Callable[[CallRecord], None] = lambda _record: None,
        settle_seconds: float = _SETTLE_SECONDS,
        flush_seconds: float = _FLUSH_SECONDS,
        instance: str | None = None,
    ) -> None:
        """``settings`` returns the routes and policies in force (the admin's changes too);
        ``stored`` hears of each finished call once its file is imported (the metrics);
        ``instance`` names this instance's ``.importing`` file when several share the file."""
        self.path = path
        self.importing = self._importing_of(instance)
        self._adopted: set[Path] = set()
        self._submit = submit
        self._flush = flush
        self._settings = settings
        self._stored = stored
        self._settle_seconds = settle_seconds
        self._flush_seconds = flush_seconds

    def adopt(self, instance: str) -> None:
        """From the next round on, import what dead ``instance`` had taken over and not stored."""
        self._adopted.add(self._importing_of(instance))

    def _importing_of(self, instance: str | None) -> Path:
        suffix = IMPORTING_SUFFIX + (f"-{instance}" if instance else "")
        return self.path.with_name(self.path.name + suffix)

    async def import_once(self) -> int:
        """Import a leftover ``.importing`` file, then the live file; return the calls stored.

        A file whose rows the database has not confirmed is kept for the next round.
        """
        await asyncio.to_thread(self._take_adopted)
        imported = 0
        for _ in range(2):  # the leftover of an earlier round first, then the live file
            found = await asyncio.to_thread(self._take_over)
            if found is _Found.NOTHING:
                break
            if found is _Found.RENAMED:
                await asyncio.sleep(self._settle_seconds)  # let an append begun before land
            calls, legs = await asyncio.to_thread(self._read)
            settings = self._settings()
            records = [
                outbound_record(call, settings)
                if call.outbound
                else to_record(call, settings, legs.get(call.uniqueid, ()))
                for call in calls
            ]
            for record in records:
                if record is not None:
                    self._submit(record)
            if not await self._flush(self._flush_seconds):
                log.warning("register.not_stored_yet", calls=len(calls), file=str(self.importing))
                break
            await asyncio.to_thread(self.importing.unlink)
            for record in records:
                # Once the file is gone, so that a file imported twice is counted once.
                if record is not None and record.finished:
                    self._stored(record)
            imported += len(calls)
            if calls:
                log.info("register.imported", calls=len(calls))
        return imported

    def _take_adopted(self) -> None:
        # Renaming is the lock: the dead instance, back meanwhile, may have taken it first.
        for leftover in self._adopted:
            if self.importing.exists():
                return  # ours first; the adopted one at a later round
            try:
                leftover.rename(self.importing)
            except FileNotFoundError:
                continue
            log.warning("register.leftover_adopted", file=str(leftover))

    def _take_over(self) -> _Found:
        if self.importing.exists():
            return _Found.LEFTOVER
        try:
            self.path.rename(self.importing)
        except FileNotFoundError:
            return _Found.NOTHING  # no call was connected without the service since then
        return _Found.RENAMED

    def _read(self) -> tuple[list[RegisterCall], dict[str, Legs]]:
        calls: list[RegisterCall] = []
        agents: list[RegisterAgent] = []
        with self.importing.open("rb") as lines:
            for number, raw in enumerate(lines, start=1):
                try:
                    entry = parse_entry(raw.decode("utf-8"))
                except (BadLineError, UnicodeDecodeError) as exc:
                    # The content came partly from callers: logged by position, not quoted.
                    log.warning(
                        "register.bad_line",
                        file=str(self.importing),
                        line=number,
                        length=len(raw),
                        reason=str(exc),
                    )
                    continue
                if isinstance(entry, RegisterAgent):
                    agents.append(entry)
                else:
                    calls.append(entry)
        return list(latest_per_call(calls).values()), legs_by_call(agents)


def to_record(call: RegisterCall, settings: Settings, legs: Legs = ()) -> CallRecord:
    """The row of a call connected without the service: nothing played, nothing recorded,
    kept under its number's route's retention policy like any other call; ``legs`` are the
    agents the register names (``register/agents.py``), the first one the row's agent when
    the end line names none (a Queue)."""
    route = settings.route_for(call.did)
    agent, answered_at = call.agent, call.answered_at
    if legs:
        agent = agent or legs[0].agent
        answered_at = answered_at or legs[0].joined_at
        if call.ended_at is not None:
            legs = all_left(legs, call.ended_at)  # its left line may be in the next file
    record = CallRecord(
        uniqueid=call.uniqueid,
        linkedid=call.linkedid,
        direction=Direction.INBOUND,
        caller_number=call.caller,
        caller_e164=to_e164(call.caller, settings.numbers_region),
        dialled_number=call.did,
        agent=agent,
        languages=(),
        consent=Consent.SERVICE_UNAVAILABLE,
        started_at=call.started_at,
        answered_at=answered_at,
        ended_at=call.ended_at,
        recording_path=None,
        recording_status=RecordingStatus.NONE,
        duration_seconds=None,
        size_bytes=None,
        sha256=None,
        retention_policy=route.retention,
        delete_after=delete_after(call.started_at, settings.retention[route.retention]),
        evidence=(Fact(kind=Kind.NOTE, at=call.started_at, note=UNAVAILABLE),),
    )
    return replace(record, agent_legs=legs) if legs else record


def outbound_record(call: RegisterCall, settings: Settings) -> CallRecord | None:
    """The row of a staff call whose callee was connected without the service, under its
    outbound route's retention; ``None`` when outbound consent is off or no route covers the
    number, since such calls leave no row when the service is up either."""
    route = settings.outbound.route_for(call.did)
    if route is None:
        return None
    record = to_record(call, settings)
    return replace(
        record,
        direction=Direction.OUTBOUND,
        retention_policy=route.retention,
        delete_after=delete_after(call.started_at, settings.retention[route.retention]),
    )
