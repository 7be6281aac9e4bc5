"""The human-readable statement of one call's consent evidence (``callrec evidence``, the call's
page): one sentence per fact, in the order they happened, then the outcome. Pure: built only
from the stored ``CallRecord``."""

from __future__ import annotations

from datetime import UTC, datetime

from callrec_ari.evidence.facts import Fact, Kind, PromptHeard
from callrec_ari.records import CallRecord, Consent, Direction, RecordingStatus

_OUTCOMES = {
    Consent.PENDING: "the consent step had not ended when this was stored",
    Consent.GIVEN: "consent given by staying on the line",
    Consent.ABANDONED: "the caller hung up before consent was given; nothing was recorded",
    Consent.DECLINED: "the caller declined; nothing was recorded",
    Consent.INTERRUPTED: "callrec could not complete the consent step; nothing was recorded",
    Consent.OPTED_OUT: "the number is on the do-not-record list; nothing was recorded",
    Consent.SERVICE_UNAVAILABLE: "callrec was unavailable; nothing was recorded",
    Consent.OVERLOADED: "callrec was overloaded and connected the call at once; nothing was "
    "announced or recorded",
    Consent.WITHDRAWN: "consent given, then withdrawn by the caller during the call; what had "
    "been recorded was deleted when the call ended",
    Consent.NO_RESPONSE: "the callee pressed no key in the time allowed; nothing was recorded",
}
# An outbound callee agrees with a key (seed 004) instead of by staying on the line, and it is
# the callee (never the staff phone) whose key withdraws.
_OUTBOUND = {
    Consent.GIVEN: "consent given by pressing the agree key",
    Consent.WITHDRAWN: "consent given by pressing the agree key, then withdrawn by the callee "
    "during the call; what had been recorded was deleted when the call ended",
}


def statement(record: CallRecord) -> list[str]:
    """What the stored evidence proves about ``record``'s consent step, one sentence a line."""
    day = record.started_at.astimezone(UTC)
    lines = [
        f"Call {record.uniqueid} to {record.dialled_number} started on {day:%Y-%m-%d %H:%M:%S} UTC."
    ]
    if not record.evidence:
        lines.append(
            "No consent evidence was kept for this call: it was stored before callrec kept "
            "evidence."
        )
    lines.extend(_sentence(fact, day) for fact in record.evidence)
    played = record.languages_played
    lines.append("Languages heard to the end: " + (", ".join(played) if played else "none") + ".")
    outcome = _OUTCOMES[record.consent]
    if record.direction == Direction.OUTBOUND:
        outcome = _OUTBOUND.get(record.consent, outcome)
    if record.consent == Consent.GIVEN and record.recording_status in (
        RecordingStatus.FAILED,
        RecordingStatus.NONE,
    ):
        outcome += ", but no recording was kept (recording failed or the caller left)"
    lines.append(f"Outcome: {outcome}.")
    return lines


# One sentence per kind of fact: {when} the time, {prompts} the audio, {digit} the key.
_SENTENCES = {
    Kind.HEARD: "The caller heard {prompts} to its end at {when}.",
    Kind.PLAYED: "The decline prompt {prompts} was played until {when}.",
    # Asterisk reports a playback cut by a hang-up as failed, too.
    Kind.FAILED: "At {when} {prompts} stopped before its end (Asterisk: failed).",
    Kind.PRESSED: "At {when} the caller pressed {digit}.",
    Kind.ENDED: "The announcement ended at {when} and the caller stayed on.",
    Kind.RECORDING: "Recording started {when}.",
    Kind.UNRECORDED: "At {when} the call was connected without recording.",
    Kind.HUNG_UP: "At {when} the caller hung up before being connected.",
    Kind.NOTE: "At {when}: {note}.",
    Kind.AGREE_OFFERED: "At {when} the callee was asked to press {digit} to agree to recording.",
    Kind.NO_KEY: "At {when} no key had been pressed in the time allowed.",
    Kind.WITHDRAWN: "At {when} the caller pressed the withdrawal key during the conversation: "
    "recording stopped and was deleted when the call ended.",
    Kind.AGENT_TOLD: "At {when} {note}, who took the call over, had heard the tone saying the "
    "call is recorded.",
}


def _sentence(fact: Fact, day: datetime) -> str:
    when = _time(fact.at, day)
    if fact.kind == Kind.OFFERED:
        if fact.digit is None:
            return f"At {when} no decline key was offered."
        return f"At {when} the announcement offered decline key {fact.digit}."
    return _SENTENCES[fact.kind].format(
        when=when, prompts=_prompts(fact), digit=fact.digit, note=fact.note
    )


def _prompts(fact: Fact) -> str:
    return " + ".join(_prompt(prompt) for prompt in fact.prompts) or "an unknown prompt"


def _prompt(prompt: PromptHeard) -> str:
    version = f" v{prompt.version}" if prompt.version is not None else " (unversioned)"
    sha = f"sha256 {prompt.sha256}" if prompt.sha256 else "sha256 unknown"
    return f"{prompt.name}{version} ({prompt.language}, {sha})"


def _time(moment: datetime, day: datetime) -> str:
    """The time of day, with the date too when it is not the call's first day."""
    moment = moment.astimezone(UTC)
    if moment.date() == day.date():
        return f"{moment:%H:%M:%S}"
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"
