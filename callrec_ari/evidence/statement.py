"""The human-readable statement of one call's consent evidence (``callrec evidence``, the call's
page): one sentence per fact, in the order they happened, then the outcome. Pure: built only
from the stored ``CallRecord``."""

from __future__ import annotations

from datetime import UTC, datetime

from callrec_ari.evidence.facts import Fact, Kind, PromptHeard
from callrec_ari.records import CallRecord, Consent, RecordingStatus

_OUTCOMES = {
    Consent.PENDING: "the consent step had not ended when this was stored",
    Consent.GIVEN: "consent given by staying on the line",
    Consent.ABANDONED: "the caller hung up before consent was given; nothing was recorded",
    Consent.DECLINED: "the caller declined; nothing was recorded",
    Consent.INTERRUPTED: "callrec could not complete the consent step; nothing was recorded",
    Consent.OPTED_OUT: "the number is on the do-not-record list; nothing was recorded",
    Consent.SERVICE_UNAVAILABLE: "callrec was unavailable; nothing was recorded",
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
    if record.consent == Consent.GIVEN and record.recording_status in (
        RecordingStatus.FAILED,
        RecordingStatus.NONE,
    ):
        outcome += ", but no recording was kept (recording failed or the caller left)"
    lines.append(f"Outcome: {outcome}.")
    return lines


def _sentence(fact: Fact, day: datetime) -> str:
    when = _time(fact.at, day)
    match fact.kind:
        case Kind.OFFERED:
            if fact.digit is None:
                return f"At {when} no decline key was offered."
            return f"At {when} the announcement offered decline key {fact.digit}."
        case Kind.HEARD:
            return f"The caller heard {_prompts(fact)} to its end at {when}."
        case Kind.PLAYED:
            return f"The decline prompt {_prompts(fact)} was played until {when}."
        case Kind.FAILED:
            # Asterisk reports a playback cut by a hang-up as failed, too.
            return f"At {when} {_prompts(fact)} stopped before its end (Asterisk: failed)."
        case Kind.PRESSED:
            return f"At {when} the caller pressed {fact.digit}."
        case Kind.ENDED:
            return f"The announcement ended at {when} and the caller stayed on."
        case Kind.RECORDING:
            return f"Recording started {when}."
        case Kind.UNRECORDED:
            return f"At {when} the call was connected without recording."
        case Kind.HUNG_UP:
            return f"At {when} the caller hung up before being connected."
        case Kind.NOTE:
            return f"At {when}: {fact.note}."


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
