"""The consent flow: a pure state machine, ``(call, event) -> (call, commands)``.

No I/O happens here. The controller feeds in events and executes the returned commands; the
tests drive this module directly. Phases, in the order a call usually passes through them::

    ANNOUNCING ─prompts done─▶ HANDING_OFF ─continue ok─▶ CONNECTED ─hangup─▶ FINALISING ─▶ DONE
        │  └─decline key─▶ DECLINING (hang-up mode) ──prompt done──▶ hangup ──▶ DONE
        └─caller hangs up──▶ DONE (consent = abandoned, nothing recorded)

Outbound calls (the callee agrees with a key, seed 004) add the phase AWAITING_KEY; their
transitions are in ``flow/outbound.py``, which hands every other event back to this flow.

Only a fully played announcement followed by an accepted ``continue`` records the call. A
caller who hangs up mid-announcement also ends the playback, as "done" or as "failed", so the
playback's end alone proves nothing. Asterisk reports the hang-up request first
(``HangUpRequested``), which ends the consent step as abandoned; the hand-off is still
confirmed before the call counts as connected, for a hang-up that comes after it. A busy
Asterisk may accept the ``continue`` of a channel already hanging up, so the refused
``continue`` alone could not tell the two apart.

Each step also adds to the record's consent evidence (``evidence/facts.py``): the decline key
offered, every key pressed before the hand-off, each announcement heard to its end (with the
version and SHA-256 of every file, from the in-memory ``PromptVersions``: no file is read
here), the announcement's end and the hand-off. For the same reason as above, an announcement
counts as heard only once a later sign of life follows it (the next one ending, a key, the
accepted ``continue``).
Withdrawal: in the conversation the decline key is the caller's withdrawal key (a features.conf
item on the caller's channel only, named in ``CALLREC_WITHDRAW_FEATURE``; on an outbound call
the callee's, the data subject's, likewise). The dialplan stops
MixMonitor itself; the flow hears ``Withdrawn``, marks the call ``withdrawn``, and at its end
asks for the recording to be discarded instead of measured::

    CONNECTED ─withdrawn─▶ CONNECTED (consent = withdrawn) ─hangup─▶ FINALISING ─deleted─▶ DONE
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import PurePosixPath

from callrec_ari.agent_legs import on_call
from callrec_ari.config import DeclineAction, DoNotRecordAction, Settings
from callrec_ari.evidence.facts import Fact, Kind
from callrec_ari.flow import agents, notes
from callrec_ari.flow import commands as cmd
from callrec_ari.flow import events as ev
from callrec_ari.flow.call import (
    BEFORE_CONNECTION,
    Call,
    Phase,
    Step,
    confirmed,
    ended_playback,
    hung_up,
    next_prompt,
    noted,
    playback_id_of,
    with_record,
)
from callrec_ari.flow.ending import settled, withdrawn
from callrec_ari.flow.notes import heard
from callrec_ari.lifecycle.retention import delete_after
from callrec_ari.numbers import to_e164
from callrec_ari.prompts.versions import PromptVersions
from callrec_ari.recording.paths import asterisk_path, relative_path, safe_name
from callrec_ari.recording.withdrawal import feature_name
from callrec_ari.records import CallRecord, Consent, Direction, RecordingStatus

SOUND_FOLDER = "callrec"
DECLINE_HINT = "decline-hint"


def _ends_consent_step(call: Call, event: ev.LeftStasis | ev.HangUpRequested) -> bool:
    """Leaving Stasis ends every phase before the connection. A hang-up request ends only the
    announcement, ahead of the playback it cuts (whatever that reports, it was not heard): in
    the decline notice it is our own hang-up, and a hand-off confirms or refuses itself."""
    if isinstance(event, ev.LeftStasis):
        return call.phase in BEFORE_CONNECTION
    return call.phase == Phase.ANNOUNCING


class ConsentFlow:
    """The transitions, configured once from ``Settings``."""

    def __init__(self, settings: Settings, versions: PromptVersions | None = None) -> None:
        self._settings = settings
        self._versions = versions if versions is not None else PromptVersions()

    @property
    def versions(self) -> PromptVersions:
        """The installed prompts' current versions, which the evidence names."""
        return self._versions

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
        offered = Fact(kind=Kind.OFFERED, at=arrival.at, digit=consent.decline_key)
        evidence: tuple[Fact, ...] = (offered,)
        if arrival.do_not_record:
            media = [f"sound:{SOUND_FOLDER}/{consent.not_recorded_prompt}"]
            evidence = (
                Fact(kind=Kind.OFFERED, at=arrival.at),
                Fact(kind=Kind.NOTE, at=arrival.at, note=notes.DO_NOT_RECORD),
            )
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
            evidence=evidence,
        )
        call = Call(
            phase=Phase.ANNOUNCING,
            channel_id=arrival.channel_id,
            record=record,
            route=route,
            dialplan_start=arrival.dialplan_start,
        )
        if arrival.do_not_record:
            call = with_record(call, consent=Consent.OPTED_OUT)
            if consent.do_not_record == DoNotRecordAction.SILENT:
                return self._connect_unrecorded(call)
        call, play = self.queue_prompts(call, media)
        # Subscribing while the announcement plays takes it off the path from the
        # announcement's end to the agent's phone ringing.
        return replace(call, subscribed=True), [cmd.Answer(), *play, cmd.Subscribe()]

    def overloaded(self, arrival: ev.CallArrived, why: str) -> Step:
        """callrec cannot keep up (``flow/overload.py``): connect the call unrecorded at once,
        with no announcement, so the caller does not wait; ``why`` goes into the evidence."""
        call, _ = self.start(replace(arrival, do_not_record=False))
        note = Fact(kind=Kind.NOTE, at=arrival.at, note=why)
        call = replace(
            with_record(call, consent=Consent.OVERLOADED, evidence=(note,)),
            queued=(),
            playback_id=None,
            playing=None,
            playbacks=0,
            subscribed=False,  # start()'s commands were not sent
        )
        return self._connect_unrecorded(call)

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
        stops.append(cmd.StopPlayback(playback_id=playback_id_of(call, call.playbacks + 1)))
        note = Fact(kind=Kind.NOTE, at=arrival.at, note=notes.RECOVERED)
        call = replace(
            with_record(call, consent=Consent.INTERRUPTED, evidence=(note,)),
            queued=(),
            playback_id=None,
            playing=None,
            subscribed=False,  # start()'s commands were not sent
        )
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
            call = with_record(call, consent=consent)
        if ended_at is None:
            # The agents still on it are followed again too, so their legs end when they leave.
            follow = [cmd.FollowAgent(channel_id=c) for c in sorted(on_call(record.agent_legs))]
            return call, [cmd.Subscribe(), *follow]
        if record.consent == Consent.PENDING:
            return replace(with_record(call, ended_at=ended_at), phase=Phase.DONE), []
        return self._ended(call, ended_at, lost=True)

    def handle(self, call: Call, event: ev.FlowEvent) -> Step:
        """Apply one event to a call."""
        match event:
            case ev.PromptFinished():
                return self._prompt_finished(call, event)
            case ev.DigitPressed():
                return self._digit(call, event)
            case ev.LeftStasis() | ev.HangUpRequested() if _ends_consent_step(call, event):
                return self._ended_before_consent(call, event.at)
            case ev.Continued() if call.phase == Phase.HANDING_OFF:
                return self._continued(call, event.at), []
            case ev.ChannelGone():
                return self._channel_gone(call, event.at)
            case ev.ChannelEnded():
                return self._ended(call, event.at, lost=event.lost)
            case ev.AgentAnswered() | ev.AgentLeft() | ev.AgentsFound() if (
                call.phase == Phase.CONNECTED
            ):
                return agents.handle(call, event, self._settings.consent.agent_tone_prompt)
            case ev.AgentTold():
                return agents.handle(call, event)
            case ev.Interrupted():
                return self._interrupted(call, event.at, notes.INTERRUPTED)
            case ev.CommandFailed():
                return self._command_failed(call, event.command, event.at)
            case ev.Withdrawn():
                return withdrawn(call, event.at), []
            case ev.RecordingSettled() if call.phase == Phase.FINALISING:
                return settled(call, event), []
        return call, []

    def _prompt_finished(self, call: Call, event: ev.PromptFinished) -> Step:
        if event.playback_id != call.playback_id:
            return call, []  # a playback we stopped on purpose
        if call.phase == Phase.DECLINING:
            if not event.failed:
                call = noted(call, ended_playback(call, Kind.PLAYED, event.at))
            if call.queued and not event.failed:
                return next_prompt(call)
            return replace(call, playback_id=None, playing=None), [cmd.Hangup()]
        if call.phase != Phase.ANNOUNCING:
            return call, []
        if event.failed:
            # The caller was not told about the recording, so there is no consent to record.
            failed = noted(call, ended_playback(call, Kind.FAILED, event.at))
            return self._interrupted(
                replace(failed, playback_id=None, playing=None), event.at, notes.FAILED
            )
        # Playing this one to its end shows the caller was still there after the previous one.
        call = replace(confirmed(call), unconfirmed=ended_playback(call, Kind.HEARD, event.at))
        if call.queued:
            return next_prompt(call)
        if call.record.consent == Consent.OPTED_OUT:
            return self._connect_unrecorded(call)
        return self._consent_given(call)

    def recording_variables(self, call: Call) -> tuple[PurePosixPath, dict[str, str]]:
        """Where a call recorded with consent is kept (relative to the recordings' root) and
        the channel variables its record context needs: ``CALLREC_FILE`` for MixMonitor and
        ``CALLREC_WITHDRAW_FEATURE``, the features.conf item that lets the data subject
        (inbound caller or outbound callee) withdraw mid-call ("" without a decline key).

        None are needed when the dialplan names the file itself from its own start of the
        call and Asterisk's globals (``dialplan_paths.py``): the same path, one request less.
        """
        start = call.dialplan_start
        if start is not None and call.outbound is None and safe_name(call.record.uniqueid):
            return relative_path(call.record.uniqueid, start), {}
        rel = relative_path(call.record.uniqueid, call.record.started_at)
        target = asterisk_path(self._settings.recording.asterisk_dir, rel)
        key = self._settings.consent.decline_key
        # Set even when empty: the channel's value hides a global of the same name.
        return rel, {
            "CALLREC_FILE": str(target),
            "CALLREC_WITHDRAW_FEATURE": feature_name(key) if key is not None else "",
        }

    def _consent_given(self, call: Call) -> Step:
        rel, variables = self.recording_variables(call)
        hand_off: list[cmd.Command] = [cmd.SetVariables(variables=variables)] if variables else []
        if not call.subscribed:
            hand_off.append(cmd.Subscribe())
        call = replace(
            with_record(
                call,
                consent=Consent.GIVEN,
                recording_status=RecordingStatus.RECORDING,
                recording_path=str(rel),
            ),
            phase=Phase.HANDING_OFF,
            playback_id=None,
            subscribed=True,
        )
        context = self._settings.dialplan.record_context
        return call, [*hand_off, cmd.Continue(context=context, recorded=True)]

    def _continued(self, call: Call, at: datetime) -> Call:
        """The hand-off took effect: the caller was on the line, so what they heard counts."""
        call = confirmed(call)
        heard = [fact for fact in call.record.evidence if fact.kind == Kind.HEARD]
        # Consent (or the opt-out notice) is only reached once the last announcement ended.
        if heard and call.record.consent in (Consent.GIVEN, Consent.OPTED_OUT):
            call = noted(call, Fact(kind=Kind.ENDED, at=heard[-1].at))
        recording = call.record.recording_status == RecordingStatus.RECORDING
        call = noted(call, Fact(kind=Kind.RECORDING if recording else Kind.UNRECORDED, at=at))
        return replace(call, phase=Phase.CONNECTED)

    def _digit(self, call: Call, event: ev.DigitPressed) -> Step:
        if call.phase in BEFORE_CONNECTION:
            # Only in the consent step: keys pressed in the conversation (a PIN, a card
            # number for an agent's system) are not ours to keep.
            call = noted(confirmed(call), Fact(kind=Kind.PRESSED, at=event.at, digit=event.digit))
        key = self._settings.consent.decline_key
        if call.phase != Phase.ANNOUNCING or key is None or event.digit != key:
            return call, []
        if call.record.consent == Consent.OPTED_OUT:
            return call, []  # nothing to refuse: this call is not going to be recorded
        stop: list[cmd.Command] = []
        if call.playback_id is not None:
            stop.append(cmd.StopPlayback(playback_id=call.playback_id))
        call = replace(
            with_record(call, consent=Consent.DECLINED), queued=(), playback_id=None, playing=None
        )
        if call.route.on_decline == DeclineAction.HANGUP:
            prompt = f"sound:{SOUND_FOLDER}/{self._settings.consent.decline_prompt}"
            call, play = self.queue_prompts(replace(call, phase=Phase.DECLINING), [prompt])
            return call, [*stop, *play]
        return self._connect_unrecorded(call, stop)

    def _connect_unrecorded(self, call: Call, before: Sequence[cmd.Command] = ()) -> Step:
        subscribe = [] if call.subscribed else [cmd.Subscribe()]
        call = replace(
            call,
            phase=Phase.HANDING_OFF,
            queued=(),
            playback_id=None,
            playing=None,
            subscribed=True,
        )
        context = self._settings.dialplan.unrecorded_context
        return call, [*before, *subscribe, cmd.Continue(context=context, recorded=False)]

    def _interrupted(self, call: Call, at: datetime | None, why: str) -> Step:
        if call.phase == Phase.ANNOUNCING:
            # A running playback would hold the continue back until it ends.
            stop = [cmd.StopPlayback(playback_id=call.playback_id)] if call.playback_id else []
            if call.record.consent == Consent.PENDING:
                call = with_record(call, consent=Consent.INTERRUPTED)
                if at is not None:
                    call = noted(call, Fact(kind=Kind.NOTE, at=at, note=why))
            return self._connect_unrecorded(call, stop)
        if call.phase == Phase.DECLINING:
            return replace(call, queued=(), playback_id=None, playing=None), [cmd.Hangup()]
        return call, []

    def _command_failed(self, call: Call, failed: cmd.Command, at: datetime | None) -> Step:
        if call.phase == Phase.ANNOUNCING and isinstance(failed, (cmd.Answer, cmd.Play)):
            # A failure ends its batch: the Subscribe after it in start()'s was not sent.
            return self._interrupted(replace(call, subscribed=False), at, notes.FAILED)
        if isinstance(failed, cmd.Subscribe) and call.phase in (Phase.ANNOUNCING, Phase.DECLINING):
            return replace(call, subscribed=False), []  # asked again at the hand-off
        if call.phase != Phase.HANDING_OFF:
            return call, []
        if call.record.recording_status == RecordingStatus.RECORDING:
            # Fail open: the call must go on even if it cannot be recorded.
            call = with_record(call, recording_status=RecordingStatus.FAILED, recording_path=None)
            return self._connect_unrecorded(call)
        if isinstance(failed, cmd.Continue):
            return call, []  # nothing left to try; Stasis() returns when the service stops
        # Without the subscription the end of the call goes unseen, but connecting comes first.
        context = self._settings.dialplan.unrecorded_context
        return call, [cmd.Continue(context=context, recorded=False)]

    def _channel_gone(self, call: Call, at: datetime) -> Step:
        if call.phase == Phase.HANDING_OFF:
            return self._gone_during_hand_off(call, at), []
        if call.phase == Phase.CONNECTED:
            return self._ended(call, at)  # an adopted call that ended before we subscribed
        return call, []

    def _gone_during_hand_off(self, call: Call, at: datetime) -> Call:
        """The caller hung up before ``continue`` took effect: nobody was reached, nothing kept.

        The announcement that just ended may have ended because of the hang-up: not evidence.
        """
        consent = call.record.consent
        if consent not in (Consent.DECLINED, Consent.OPTED_OUT):
            consent = Consent.ABANDONED
        call = noted(replace(call, unconfirmed=None), Fact(kind=Kind.HUNG_UP, at=at))
        return with_record(
            call, consent=consent, recording_status=RecordingStatus.NONE, recording_path=None
        )

    def _ended_before_consent(self, call: Call, at: datetime) -> Step:
        consent = call.record.consent
        if call.phase == Phase.ANNOUNCING and consent == Consent.PENDING:
            consent = Consent.ABANDONED
        # A playback the hang-up ended looks like one that played to its end: not evidence.
        call = replace(call, unconfirmed=None)
        if call.phase != Phase.DECLINING and not hung_up(call):
            call = noted(call, Fact(kind=Kind.HUNG_UP, at=at))
        return replace(with_record(call, consent=consent, ended_at=at), phase=Phase.DONE), []

    def queue_prompts(self, call: Call, media: Sequence[str]) -> Step:
        """Queue ``media`` once per language of the call's route and start the first."""
        plays = []
        for number, language in enumerate(call.route.languages, start=call.playbacks + 1):
            plays.append(
                cmd.Play(
                    playback_id=playback_id_of(call, number),
                    media=tuple(media),
                    language=language,
                    prompts=tuple(heard(self._versions, medium, language) for medium in media),
                )
            )
        call = replace(call, queued=tuple(plays), playbacks=call.playbacks + len(plays))
        return next_prompt(call)

    def _ended(self, call: Call, at: datetime, *, lost: bool = False) -> Step:
        if call.phase in BEFORE_CONNECTION:
            return self._ended_before_consent(call, at)
        if call.phase != Phase.CONNECTED:
            return call, []
        call = agents.ended(with_record(call, ended_at=at))
        path = call.record.recording_path
        if call.record.recording_status == RecordingStatus.RECORDING and path is not None:
            discard = call.record.consent == Consent.WITHDRAWN
            return replace(call, phase=Phase.FINALISING), [
                # A withdrawn recording is deleted, open or not: nothing to repair.
                cmd.AwaitRecording(
                    path=PurePosixPath(path), discard=discard, lost=lost and not discard
                )
            ]
        return replace(call, phase=Phase.DONE), []
