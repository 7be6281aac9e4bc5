"""The consent evidence's building blocks for the flow: which audio a playback is, and what
happened when no announcement was followed to its end. Pure: the versions come from memory."""

from __future__ import annotations

from datetime import datetime

from callrec_ari.evidence.facts import Fact, Kind, PromptHeard
from callrec_ari.flow import commands as cmd
from callrec_ari.prompts.versions import PromptVersions

DO_NOT_RECORD = "the number is on the do-not-record list: no recording was offered"
RECOVERED = "callrec restarted during the consent step: the call was let through unrecorded"
INTERRUPTED = "callrec lost sight of the call during the announcement: connected unrecorded"
FAILED = "the announcement did not play to its end: connected unrecorded"
PBX_FAILED = (
    "Asterisk stopped during the conversation: the recording ends there (its file was repaired)"
)


def heard(versions: PromptVersions, medium: str, language: str) -> PromptHeard:
    """Which version of a prompt Asterisk plays for ``sound:callrec/<name>`` in ``language``."""
    name = medium.rpartition("/")[2]
    current = versions.lookup(name, language)
    return PromptHeard(
        name=name,
        language=language,
        version=current.version if current else None,
        sha256=current.sha256 if current else None,
    )


def played(play: cmd.Play | None, kind: Kind, at: datetime) -> Fact:
    """The fact that ``play`` ended at ``at`` (``kind`` says how)."""
    return Fact(
        kind=kind,
        at=at,
        language=play.language if play else None,
        prompts=play.prompts if play else (),
    )
