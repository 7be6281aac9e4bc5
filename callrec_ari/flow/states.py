"""The consent flow: a pure state machine, ``(call, event) -> (call, commands)``.

No I/O happens here. The controller feeds in events and executes the returned commands; the
tests drive this module directly. Phases, in the order a call usually passes through them::

    ANNOUNCING ─prompts done─▶ HANDING_OFF ─continue ok─▶ CONNECTED ─hangup─▶ FINALISING ─▶ DONE
        │  └─decline key─▶ DECLINING (hang-up mode) ──prompt done──▶ hangup ──▶ DONE
        └─caller hangs up──▶ DONE (consent = abandoned, nothing recorded)

Outbound calls (the callee agrees with a key, seed 004) add the phase AWAITING_KEY; their
transitions are in ``flow/outbound.py``, which hands every other event back to this flow.

Only a fully played announcement followed by an accepted ``continue`` records the call. The
hand-off is confirmed before the call counts as connected because a caller who hangs up
mid-announcement also ends the playback, and only the refused ``continue`` tells the two apart.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from callrec_ari.config import DeclineAction, DoNotRecordAction, Route, Settings
from callrec_ari.config.outbound import OutboundRoute
from callrec_ari.flow import commands as cmd
from callrec_ari.flow import events as ev
from callrec_ari.lifecycle.retention import delete_after
from callrec_ari.numbers import to_e164
from callrec_ari.recording.paths import asterisk_path, relative_path
from callrec_ari.records import CallRecord, Consent, Direction, RecordingStatus

SOUND_FOLDER = "callrec"
DECLINE_HINT = "decline-hint"


class Phase(enum.StrEnum):
    """Where a call is in the consent flow."""

    ANNOUNCING = "announcing"
    DECLINING = "declining"
    AWAITING_KEY = "awaiting_key"  # outbound: announcement done, waiting for the agree key
    HANDING_OFF = "handing_off"
    CONNECTED = "connected"
    FINALISING = "finalising"
    DONE = "done"


@dataclass(frozen=True, kw_only=True)
class Call:
    """One call's state: its record plus what the flow is waiting for."""

    phase: Phase
    channel_id: str
    record: CallRecord
    route: Route
    queued: tuple[cmd.Play, ...] = ()  # prompts still to play after the current one
    playback_id: str | None = None  # the playback whose end we wait for
    playbacks: int = 0  # how many we started, to give each a unique id
    outbound: OutboundRoute | None = None  # set on outbound calls (flow/outbound.py)
    stored: bool = True  # False: a call callrec only lets through, leaving no row


Step = tuple[Call, list[cmd.Command]]
# Phases in which the caller is still in our hands, not yet back in the dialplan.
BEFORE_CONNECTION = frozenset(
    {Phase.ANNOUNCING, Phase.DECLINING, Phase.AWAITING_KEY, Phase.HANDING_OFF}
)


class ConsentFlow:
    """The transitions, configured once from ``Settings``."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def settings(self) -> Settings:
        """The settings (routes and policies) this flow routes new calls by."""
        return self._settings

    def start(self, arrival: ev.CallArrived) -> Step:
        """A call entered the consent step: answer it and start the announcement.

        A caller on the do-not-record list hears a short notice instead (or nothing, as
        configured) and is connected without recording.
        """
        route = self._settings.route_for(arrival.dialled_number)
        consent = self._settings.consent
        media = [f"sound:{SOUND_FOLDER}/{route.prompt}"]
        if consent.decline_key is not None:
            media.append(f"sound:{SOUND_FOLDER}/{DECLINE_HINT}")
        if arrival.do_not_record:
            media = [f"sound:{SOUND_FOLDER}/{consent.not_recorded_prompt}"]
        record = CallRecord(
            uniqueid=arrival.channel_id,
            linkedid=arrival.linkedid,
            direction=Direction.INBOUND,
            caller_number=arrival.caller_number,
            caller_e164=to_e164(arrival.caller_number, self._settings.numbers_region),
            dialled_number=arrival.dialled_number,
            agent=None,
            languages=route.languages,
            consent=Consent.PENDING,
            started_at=arrival.at,
            answered_at=None,
            ended_at=None,
            recording_path=None,
            recording_status=RecordingStatus.NONE,
            duration_seconds=None,
            size_bytes=None,
            sha256=None,
            retention_policy=route.retention,
            delete_after=delete_after(arrival.at, self._settings.retention[route.retention]),
        )
        call = Call(
            phase=Phase.ANNOUNCING, channel_id=arrival.channel_id, record=record, route=route
        )
        if arrival.do_not_record:
            call = _with(call, consent=Consent.OPTED_OUT)
            if consent.do_not_record == DoNotRecordAction.SILENT:
                return self._connect_unrecorded(call)
        call, play = _queue_prompts(call, media)
        return call, [cmd.Answer(), *play]

    def recover(self, arrival: ev.CallArrived) -> Step:
        """A call found in our application that no one is handling: let it through unrecorded.

        Asterisk holds a ``continue`` until the running playback ends, so every playback the
        crashed service may have started is stopped first; their ids are deterministic.
        """
        call, _ = self.start(arrival)
        playing = [p.playback_id for p in call.queued]
        if call.playback_id is not None:
            playing.insert(0, call.playback_id)
        stops = [cmd.StopPlayback(playback_id=playback) for playback in playing]
        stops.append(cmd.StopPlayback(playback_id=_playback_id(call, call.playbacks + 1)))
        call = replace(_with(call, consent=Consent.INTERRUPTED), queued=(), playback_id=None)
        return self._connect_unrecorded(call, stops)

    def adopt(self, record: CallRecord, *, ended_at: datetime | None) -> Step:
        """Take back a call tracked before a restart, from its last snapshot.

        ``ended_at`` is None while the channel is still up: the call is followed again until
        it ends. Otherwise the call is ended now, and a recording is settled as usual. A call
        still in the consent step is not adopted but recovered (``recover``); one found in
        neither place either hung up mid-announcement (gone) or was let through unrecorded.
        """
        route = self._settings.route_for(record.dialled_number)
        call = Call(phase=Phase.CONNECTED, channel_id=record.uniqueid, record=record, route=route)
        if record.consent == Consent.PENDING:
            consent = Consent.INTERRUPTED if ended_at is None else Consent.ABANDONED
            call = _with(call, consent=consent)
        if ended_at is None:
            return call, [cmd.Subscribe()]
        if record.consent == Consent.PENDING:
            return replace(_with(call, ended_at=ended_at), phase=Phase.DONE), []
        return self._ended(call, ended_at)

    def handle(self, call: Call, event: ev.FlowEvent) -> Step:
        """Apply one event to a call."""
        match event:
            case ev.PromptFinished():
                return self._prompt_finished(call, event)
            case ev.DigitPressed():
                return self._digit(call, event)
            case ev.LeftStasis() if call.phase in BEFORE_CONNECTION:
                return self._ended_before_consent(call, event.at)
            case ev.Continued() if call.phase == Phase.HANDING_OFF:
                return replace(call, phase=Phase.CONNECTED), []
            case ev.ChannelGone():
                return self._channel_gone(call, event.at)
            case ev.ChannelEnded():
                return self._ended(call, event.at)
            case ev.AgentAnswered() if call.phase == Phase.CONNECTED:
                if call.record.agent is not None:
                    return call, []
                return _with(call, agent=event.agent, answered_at=event.at), []
            case ev.Interrupted():
                return self._interrupted(call)
            case ev.CommandFailed():
                return self._command_failed(call, event.command)
            case ev.RecordingSettled() if call.phase == Phase.FINALISING:
                status = event.status
                if status == RecordingStatus.EMPTY and call.record.answered_at is not None:
                    # Bridged with an agent yet no audio: MixMonitor failed, not "nothing said".
                    status = RecordingStatus.FAILED
                return replace(
                    _with(
                        call,
                        recording_status=status,
                        duration_seconds=event.duration_seconds,
                        size_bytes=event.size_bytes,
                        sha256=event.sha256,
                    ),
                    phase=Phase.DONE,
                ), []
        return call, []

    def _prompt_finished(self, call: Call, event: ev.PromptFinished) -> Step:
        if event.playback_id != call.playback_id:
            return call, []  # a playback we stopped on purpose
        if call.phase == Phase.DECLINING:
            if call.queued and not event.failed:
                return _next_prompt(call)
            return replace(call, playback_id=None), [cmd.Hangup()]
        if call.phase != Phase.ANNOUNCING:
            return call, []
        if event.failed:
            # The caller was not told about the recording, so there is no consent to record.
            return self._interrupted(replace(call, playback_id=None))
        if call.queued:
            return _next_prompt(call)
        if call.record.consent == Consent.OPTED_OUT:
            return self._connect_unrecorded(call)
        return self._consent_given(call)

    def _consent_given(self, call: Call) -> Step:
        rel = relative_path(call.record.uniqueid, call.record.started_at)
        target = asterisk_path(self._settings.recording.asterisk_dir, rel)
        call = replace(
            _with(
                call,
                consent=Consent.GIVEN,
                recording_status=RecordingStatus.RECORDING,
                recording_path=str(rel),
            ),
            phase=Phase.HANDING_OFF,
            playback_id=None,
        )
        return call, [
            cmd.SetVariables(variables={"CALLREC_FILE": str(target)}),
            cmd.Subscribe(),
            cmd.Continue(context=self._settings.dialplan.record_context, recorded=True),
        ]

    def _digit(self, call: Call, event: ev.DigitPressed) -> Step:
        key = self._settings.consent.decline_key
        if call.phase != Phase.ANNOUNCING or key is None or event.digit != key:
            return call, []
        if call.record.consent == Consent.OPTED_OUT:
            return call, []  # nothing to refuse: this call is not going to be recorded
        stop: list[cmd.Command] = []
        if call.playback_id is not None:
            stop.append(cmd.StopPlayback(playback_id=call.playback_id))
        call = replace(_with(call, consent=Consent.DECLINED), queued=(), playback_id=None)
        if call.route.on_decline == DeclineAction.HANGUP:
            prompt = f"sound:{SOUND_FOLDER}/{self._settings.consent.decline_prompt}"
            call, play = _queue_prompts(replace(call, phase=Phase.DECLINING), [prompt])
            return call, [*stop, *play]
        return self._connect_unrecorded(call, stop)

    def _connect_unrecorded(self, call: Call, before: Sequence[cmd.Command] = ()) -> Step:
        return replace(call, phase=Phase.HANDING_OFF, queued=(), playback_id=None), [
            *before,
            cmd.Subscribe(),
            cmd.Continue(context=self._settings.dialplan.unrecorded_context, recorded=False),
        ]

    def _interrupted(self, call: Call) -> Step:
        if call.phase == Phase.ANNOUNCING:
            # A running playback would hold the continue back until it ends.
            stop = [cmd.StopPlayback(playback_id=call.playback_id)] if call.playback_id else []
            if call.record.consent == Consent.PENDING:
                call = _with(call, consent=Consent.INTERRUPTED)
            return self._connect_unrecorded(call, stop)
        if call.phase == Phase.DECLINING:
            return replace(call, queued=(), playback_id=None), [cmd.Hangup()]
        return call, []

    def _command_failed(self, call: Call, failed: cmd.Command) -> Step:
        if call.phase == Phase.ANNOUNCING and isinstance(failed, (cmd.Answer, cmd.Play)):
            return self._interrupted(call)
        if call.phase != Phase.HANDING_OFF:
            return call, []
        if call.record.recording_status == RecordingStatus.RECORDING:
            # Fail open: the call must go on even if it cannot be recorded.
            call = _with(call, recording_status=RecordingStatus.FAILED, recording_path=None)
            return self._connect_unrecorded(call)
        if isinstance(failed, cmd.Continue):
            return call, []  # nothing left to try; Stasis() returns when the service stops
        # Without the subscription the end of the call goes unseen, but connecting comes first.
        context = self._settings.dialplan.unrecorded_context
        return call, [cmd.Continue(context=context, recorded=False)]

    def _channel_gone(self, call: Call, at: datetime) -> Step:
        if call.phase == Phase.HANDING_OFF:
            return self._gone_during_hand_off(call), []
        if call.phase == Phase.CONNECTED:
            return self._ended(call, at)  # an adopted call that ended before we subscribed
        return call, []

    def _gone_during_hand_off(self, call: Call) -> Call:
        """The caller hung up before ``continue`` took effect: nobody was reached, nothing kept."""
        consent = call.record.consent
        if consent not in (Consent.DECLINED, Consent.OPTED_OUT):
            consent = Consent.ABANDONED
        return _with(
            call, consent=consent, recording_status=RecordingStatus.NONE, recording_path=None
        )

    def _ended_before_consent(self, call: Call, at: datetime) -> Step:
        consent = call.record.consent
        if call.phase == Phase.ANNOUNCING and consent == Consent.PENDING:
            consent = Consent.ABANDONED
        return replace(_with(call, consent=consent, ended_at=at), phase=Phase.DONE), []

    def _ended(self, call: Call, at: datetime) -> Step:
        if call.phase in BEFORE_CONNECTION:
            return self._ended_before_consent(call, at)
        if call.phase != Phase.CONNECTED:
            return call, []
        call = _with(call, ended_at=at)
        path = call.record.recording_path
        if call.record.recording_status == RecordingStatus.RECORDING and path is not None:
            return replace(call, phase=Phase.FINALISING), [
                cmd.AwaitRecording(path=PurePosixPath(path))
            ]
        return replace(call, phase=Phase.DONE), []


def _with(call: Call, **changes: Any) -> Call:
    """The call with some fields of its record changed."""
    return replace(call, record=replace(call.record, **changes))


def _queue_prompts(call: Call, media: Sequence[str]) -> Step:
    plays = []
    for number, language in enumerate(call.route.languages, start=call.playbacks + 1):
        plays.append(
            cmd.Play(
                playback_id=_playback_id(call, number),
                media=tuple(media),
                language=language,
            )
        )
    call = replace(call, queued=tuple(plays), playbacks=call.playbacks + len(plays))
    return _next_prompt(call)


def _playback_id(call: Call, number: int) -> str:
    return f"{call.channel_id}-p{number}"


def _next_prompt(call: Call) -> Step:
    first, *rest = call.queued
    return replace(call, queued=tuple(rest), playback_id=first.playback_id), [first]
