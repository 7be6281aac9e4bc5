"""What the consent step of one call left as evidence: plain, immutable, JSON-ready facts.

The flow appends a ``Fact`` at each moment an auditor may ask about: the decline key offered,
each announcement heard to its end (every prompt's name, language, version and the SHA-256 of
the audio Asterisk played), each key the caller pressed, the end of the announcement and the
hand-off (recorded or not). They travel on the ``CallRecord`` so the journal and the database
keep them with the rest of the call's snapshot.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# The evidence of a call the dialplan connected while callrec was not there (the register's).
UNAVAILABLE = "no announcement was played: callrec was unavailable; connected unrecorded"


class Kind(enum.StrEnum):
    """What a fact says happened."""

    OFFERED = "offered"  # the decline key the announcement offered (digit None: none offered)
    HEARD = "heard"  # an announcement played to its end and the caller was still there after it
    PLAYED = "played"  # the decline prompt played; the caller may have left during it
    FAILED = "failed"  # an announcement did not play to its end (unplayable, or a hang-up)
    PRESSED = "pressed"  # the caller pressed a key before being connected
    ENDED = "announcement_ended"  # the last announcement ended with the caller still on
    RECORDING = "recording_started"  # handed to the dialplan with recording
    UNRECORDED = "connected_unrecorded"  # handed to the dialplan without recording
    HUNG_UP = "hung_up"  # the caller hung up before being connected
    NOTE = "note"  # what is known when no announcement was followed (service down, restart)
    AGREE_OFFERED = "agree_offered"  # outbound: the key the callee was asked to press to agree
    NO_KEY = "no_key"  # outbound: no key came within the route's timeout
    WITHDRAWN = "withdrawn"  # the caller pressed the withdrawal key in the conversation
    AGENT_TOLD = "agent_told"  # an agent who took the call over heard the recording tone


@dataclass(frozen=True, kw_only=True)
class PromptHeard:
    """One sound file of an announcement: which version of which prompt, by its audio hash."""

    name: str
    language: str
    version: int | None  # None: no version of this file was known when it played
    sha256: str | None

    def to_json(self) -> dict[str, object]:
        """JSON-ready values."""
        return {
            "name": self.name,
            "language": self.language,
            "version": self.version,
            "sha256": self.sha256,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PromptHeard:
        """The prompt ``to_json`` produced; ``KeyError``/``ValueError`` if malformed."""
        version = data["version"]
        sha256 = data["sha256"]
        return cls(
            name=str(data["name"]),
            language=str(data["language"]),
            version=None if version is None else int(version),
            sha256=None if sha256 is None else str(sha256),
        )


@dataclass(frozen=True, kw_only=True)
class Fact:
    """One moment of the consent step. Times are timezone-aware UTC."""

    kind: Kind
    at: datetime
    language: str | None = None  # HEARD, PLAYED, FAILED
    prompts: tuple[PromptHeard, ...] = ()  # HEARD, PLAYED, FAILED
    digit: str | None = None  # OFFERED, PRESSED
    note: str | None = None  # NOTE; AGENT_TOLD: the agent

    def to_json(self) -> dict[str, object]:
        """JSON-ready values; empty fields are left out to keep each snapshot small."""
        result: dict[str, object] = {"kind": self.kind.value, "at": self.at.isoformat()}
        if self.language is not None:
            result["language"] = self.language
        if self.prompts:
            result["prompts"] = [prompt.to_json() for prompt in self.prompts]
        if self.digit is not None:
            result["digit"] = self.digit
        if self.note is not None:
            result["note"] = self.note
        return result

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fact:
        """The fact ``to_json`` produced; ``KeyError``/``ValueError`` if malformed."""
        at = datetime.fromisoformat(str(data["at"]))
        if at.tzinfo is None:
            raise ValueError(f"Evidence time {data['at']!r} has no timezone.")
        language = data.get("language")
        digit = data.get("digit")
        note = data.get("note")
        return cls(
            kind=Kind(data["kind"]),
            at=at,
            language=None if language is None else str(language),
            prompts=tuple(PromptHeard.from_json(item) for item in data.get("prompts", ())),
            digit=None if digit is None else str(digit),
            note=None if note is None else str(note),
        )


def languages_heard(facts: tuple[Fact, ...]) -> tuple[str, ...]:
    """The languages whose announcement the caller heard to its end, in the order played."""
    heard: list[str] = []
    for fact in facts:
        if fact.kind == Kind.HEARD and fact.language is not None and fact.language not in heard:
            heard.append(fact.language)
    return tuple(heard)


def evidence_to_json(facts: tuple[Fact, ...]) -> list[dict[str, object]]:
    """The facts as a JSON-ready list."""
    return [fact.to_json() for fact in facts]


def evidence_from_json(data: Any) -> tuple[Fact, ...]:
    """The facts ``evidence_to_json`` produced (None or missing: none)."""
    if data is None:
        return ()
    if not isinstance(data, list):
        raise ValueError("Call evidence is not a list.")  # noqa: TRY004 - readers catch ValueError
    return tuple(Fact.from_json(item) for item in data)
