"""The consent flow of an outbound call (seed 004): the callee agrees with a key, or is not
recorded. Pure, like ``states``: events in, commands out; the controller runs them.

The dialplan runs ``Stasis()`` on the callee's channel once they answered, before they are
bridged with the staff phone (``Dial(...,U(callrec-outbound-consent))``)::

    ANNOUNCING ─prompts done─▶ AWAITING_KEY ─agree key─▶ HANDING_OFF (record) ─▶ CONNECTED ─▶ …
        │                          ├─other key──▶ HANDING_OFF (unrecorded, or end the call)
        ├─other key───────────────▶┤
        │                          └─timer runs out─▶ (the same as another key: no_response)
        └─callee hangs up──▶ DONE (consent = abandoned, nothing recorded)

The agree key counts only once the whole announcement was played: a callee who presses it
earlier has not yet heard what they would agree to, so it is ignored (they may press it again
once the announcement has ended). Any other key refuses at once, even mid-announcement. From
``HANDING_OFF`` on, the call runs through ``ConsentFlow`` like an inbound one (end of call,
recording settled, and withdrawal: an agreed call names the ``[consent] decline_key``'s
features.conf item, so the callee's key in the conversation withdraws as an inbound caller's
does; ``Withdrawn`` then goes to ``ConsentFlow``)::

    CONNECTED ─withdrawn─▶ CONNECTED (consent = withdrawn) ─hangup─▶ FINALISING ─deleted─▶ DONE
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from callrec_ari.config import DeclineAction, Route
from callrec_ari.config.outbound import NoConsentAction, OutboundRoute
from callrec_ari.evidence.facts import Fact, Kind
from callrec_ari.flow import commands as cmd
from callrec_ari.flow import events as ev
from callrec_ari.flow import notes
from callrec_ari.flow.call import (
    Call,
    Phase,
    Step,
    confirmed,
    ended_playback,
    next_prompt,
    noted,
    playback_id_of,
    with_record,
)
from callrec_ari.flow.states import SOUND_FOLDER, ConsentFlow
from callrec_ari.lifecycle.retention import delete_after
from callrec_ari.numbers import to_e164
from callrec_ari.records import CallRecord, Consent, Direction, RecordingStatus

_WAITING = frozenset({Phase.ANNOUNCING, Phase.AWAITING_KEY})
_REFUSED = frozenset({Consent.DECLINED, Consent.NO_RESPONSE})


class OutboundFlow:
    """The outbound transitions; every event it has no rule for goes to ``ConsentFlow``."""

    def __init__(self, flow: ConsentFlow) -> None:
        self._flow = flow
        self._settings = flow.settings.outbound
        self._all = flow.settings

    def start(self, arrival: ev.CallArrived) -> Step:
        """The callee answered: announce, then wait for the agree key.

        With outbound consent off, or for a number no route covers, the call goes straight
        on unrecorded and leaves no row: staff calls are not recorded (seed 000 §4.5).
        """
        route = self._settings.route_for(arrival.dialled_number)
        call = self._call(arrival, route)
        if route is None:
            return self._pass_through(call)
        return self._flow.queue_prompts(call, [f"sound:{SOUND_FOLDER}/{route.prompt}"])

    def overloaded(self, arrival: ev.CallArrived, why: str) -> Step:
        """callrec cannot keep up: connect the callee unrecorded at once, unannounced."""
        route = self._settings.route_for(arrival.dialled_number)
        call = self._call(arrival, route)
        if route is None:
            return self._pass_through(call)
        note = Fact(kind=Kind.NOTE, at=arrival.at, note=why)
        call = with_record(call, consent=Consent.OVERLOADED, evidence=(note,))
        return self._connect(call, self._settings.unrecorded_context)

    def recover(self, arrival: ev.CallArrived) -> Step:
        """A callee left in our application by a crashed run: stop what it may have been
        playing (ids are deterministic) and connect unrecorded."""
        route = self._settings.route_for(arrival.dialled_number)
        call = self._call(arrival, route)
        if route is None:
            return self._pass_through(call)
        count = len(route.languages) + 1
        stops = [cmd.StopPlayback(playback_id=playback_id_of(call, n)) for n in range(1, count + 1)]
        note = Fact(kind=Kind.NOTE, at=arrival.at, note=notes.RECOVERED)
        call = with_record(call, consent=Consent.INTERRUPTED, evidence=(note,))
        return self._connect(call, self._settings.unrecorded_context, stops)

    def handle(self, call: Call, event: ev.FlowEvent) -> Step:
        """Apply one event to an outbound call."""
        route = call.outbound
        if route is None:
            return self._flow.handle(call, event)
        match event:
            case ev.PromptFinished():
                return self._prompt_finished(call, route, event)
            case ev.DigitPressed() if call.phase in _WAITING:
                pressed = Fact(kind=Kind.PRESSED, at=event.at, digit=event.digit)
                return self._digit(noted(confirmed(call), pressed), route, event.digit)
            case ev.KeyTimeout() if call.phase == Phase.AWAITING_KEY:
                # The channel was still up when the timer ran out: the announcement was heard.
                silent = noted(confirmed(call), Fact(kind=Kind.NO_KEY, at=event.at))
                return self._refused(silent, route, Consent.NO_RESPONSE)
            case ev.Interrupted() if call.phase in _WAITING:
                return self._interrupted(call, event.at)
            case ev.LeftStasis() | ev.HangUpRequested() | ev.ChannelEnded() if (
                call.phase in _WAITING
            ):
                consent = call.record.consent
                if consent == Consent.PENDING:
                    consent = Consent.ABANDONED
                # A playback the hang-up ended looks like one that played to its end.
                gone = noted(replace(call, unconfirmed=None), Fact(kind=Kind.HUNG_UP, at=event.at))
                return replace(
                    with_record(gone, consent=consent, ended_at=event.at), phase=Phase.DONE
                ), []
            case ev.ChannelGone() if call.phase == Phase.HANDING_OFF:
                consent = call.record.consent
                if consent not in _REFUSED:
                    consent = Consent.ABANDONED
                gone = noted(replace(call, unconfirmed=None), Fact(kind=Kind.HUNG_UP, at=event.at))
                return with_record(
                    gone,
                    consent=consent,
                    recording_status=RecordingStatus.NONE,
                    recording_path=None,
                ), []
            case ev.CommandFailed():
                return self._command_failed(call, route, event.command, event.at)
        return self._flow.handle(call, event)

    def _call(self, arrival: ev.CallArrived, route: OutboundRoute | None) -> Call:
        number = arrival.dialled_number
        policy = route.retention if route else self._all.default_route.retention
        record = CallRecord(
            uniqueid=arrival.channel_id,
            linkedid=arrival.linkedid,
            direction=Direction.OUTBOUND,
            # The callee is the data subject: stored where access and erasure requests look.
            caller_number=number or None,
            caller_e164=to_e164(number, self._all.numbers_region) if number else None,
            dialled_number=number,
            agent=arrival.agent,
            languages=route.languages if route else (),
            consent=Consent.PENDING,
            started_at=arrival.at,
            answered_at=arrival.at,  # the callee answered when the consent step began
            ended_at=None,
            recording_path=None,
            recording_status=RecordingStatus.NONE,
            duration_seconds=None,
            size_bytes=None,
            sha256=None,
            retention_policy=policy,
            delete_after=delete_after(arrival.at, self._all.retention[policy]),
            evidence=(Fact(kind=Kind.AGREE_OFFERED, at=arrival.at, digit=route.agree_key),)
            if route
            else (),
        )
        as_route = Route(
            languages=record.languages or ("en",),
            prompt=route.prompt if route else "",
            retention=policy,
            on_decline=DeclineAction.CONNECT,
        )
        return Call(
            phase=Phase.ANNOUNCING,
            channel_id=arrival.channel_id,
            record=record,
            route=as_route,
            outbound=route,
        )

    def _pass_through(self, call: Call) -> Step:
        context = self._settings.unrecorded_context
        done = replace(call, phase=Phase.DONE, stored=False)
        return done, [cmd.Continue(context=context, recorded=False)]

    def _prompt_finished(self, call: Call, route: OutboundRoute, event: ev.PromptFinished) -> Step:
        if event.playback_id != call.playback_id or call.phase != Phase.ANNOUNCING:
            return call, []  # a playback we stopped on purpose
        if event.failed:
            # The callee was not told about the recording, so nothing they press is consent.
            failed = noted(call, ended_playback(call, Kind.FAILED, event.at))
            return self._interrupted(replace(failed, playback_id=None, playing=None), event.at)
        # Heard only once a sign of life follows (a key, the timer running out on a live line).
        call = replace(confirmed(call), unconfirmed=ended_playback(call, Kind.HEARD, event.at))
        if call.queued:
            return next_prompt(call)
        waiting = replace(call, phase=Phase.AWAITING_KEY, playback_id=None, playing=None)
        return waiting, [cmd.StartTimer(seconds=route.timeout_seconds)]

    def _digit(self, call: Call, route: OutboundRoute, digit: str) -> Step:
        if digit == route.agree_key:
            if call.phase != Phase.AWAITING_KEY:
                return call, []  # not yet informed: only a key after the announcement agrees
            return self._agreed(call)
        return self._refused(call, route, Consent.DECLINED)

    def _agreed(self, call: Call) -> Step:
        # The same variables as an inbound call's: the file, and the callee's withdrawal key.
        rel, variables = self._flow.recording_variables(call)
        call = with_record(
            call,
            consent=Consent.GIVEN,
            recording_status=RecordingStatus.RECORDING,
            recording_path=str(rel),
        )
        return self._connect(
            call,
            self._settings.record_context,
            [cmd.SetVariables(variables=variables)],
            recorded=True,
        )

    def _refused(self, call: Call, route: OutboundRoute, consent: Consent) -> Step:
        stop = [cmd.StopPlayback(playback_id=call.playback_id)] if call.playback_id else []
        call = with_record(call, consent=consent)
        return self._connect(call, self._no_consent_context(route), stop)

    def _no_consent_context(self, route: OutboundRoute) -> str:
        if route.on_no_consent == NoConsentAction.HANGUP:
            return self._settings.hangup_context
        return self._settings.unrecorded_context

    def _interrupted(self, call: Call, at: datetime | None) -> Step:
        # Fail open: whatever the route says about refusals, a failure on our side connects.
        stop = [cmd.StopPlayback(playback_id=call.playback_id)] if call.playback_id else []
        if call.record.consent == Consent.PENDING:
            call = with_record(call, consent=Consent.INTERRUPTED)
            if at is not None:
                call = noted(call, Fact(kind=Kind.NOTE, at=at, note=notes.INTERRUPTED))
        return self._connect(call, self._settings.unrecorded_context, stop)

    def _command_failed(
        self, call: Call, route: OutboundRoute, failed: cmd.Command, at: datetime | None
    ) -> Step:
        if call.phase in _WAITING and isinstance(failed, (cmd.Answer, cmd.Play)):
            return self._interrupted(call, at)
        if call.phase != Phase.HANDING_OFF or isinstance(failed, cmd.Continue):
            return call, []  # nothing left to try; Stasis() returns when the service stops
        if call.record.recording_status == RecordingStatus.RECORDING:
            call = with_record(call, recording_status=RecordingStatus.FAILED, recording_path=None)
            return self._connect(call, self._settings.unrecorded_context)
        context = self._settings.unrecorded_context
        if call.record.consent in _REFUSED:
            context = self._no_consent_context(route)
        return call, [cmd.Continue(context=context, recorded=False)]

    @staticmethod
    def _connect(
        call: Call, context: str, before: Sequence[cmd.Command] = (), *, recorded: bool = False
    ) -> Step:
        call = replace(call, phase=Phase.HANDING_OFF, queued=(), playback_id=None, playing=None)
        return call, [
            *before,
            cmd.Subscribe(),
            cmd.Continue(context=context, recorded=recorded),
        ]
