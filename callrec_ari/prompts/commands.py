"""``callrec prompts build`` (composing) and ``callrec prompts check``: what they print."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from callrec_ari.config import Settings
from callrec_ari.db.session import run_command
from callrec_ari.profile.announcement import WORDINGS
from callrec_ari.prompts.check import CEILING_SECONDS, check_prompts
from callrec_ari.prompts.compose import plan, profile_of, write_texts
from callrec_ari.routing import store as routing


def live_settings(settings: Settings, *, client: str | None) -> Settings:
    """``settings`` with the admin's run-time routes and policies applied, from the database."""
    return run_command(
        settings.database.url,
        lambda session: routing.effective(session, settings),
        client=client,
    )


def compose(settings: Settings, *, languages: Sequence[str] | None) -> None:
    """Write the announcement texts the profile composes; print what was written or kept."""
    profile = profile_of(settings)
    if profile is None:
        _out("The configuration has no [profile]: the texts are built as they are written.")
        return
    composed = plan(settings, profile)
    wanted = [t for t in composed.texts if languages is None or t.language in languages]
    for path in write_texts(settings.prompts.source_dir, wanted):
        _out(f"{path.parent.name}/{path.name}  composed from the profile")
    for language, name in composed.as_written:
        if languages is None or language in languages:
            reason = "not an announcement" if language in WORDINGS else "no wording in it"
            _out(f"{language}/{name}.txt  kept as written ({reason})")


def check(settings: Settings, *, languages: Sequence[str] | None) -> int:
    """Print one line per finding; 1 when there is any, else 0 and a line saying so."""
    findings = [
        finding
        for finding in check_prompts(settings.prompts.source_dir, settings, profile_of(settings))
        if languages is None or finding.language in {"*", *languages}
    ]
    for finding in findings:
        _out(str(finding))
    if findings:
        return 1
    _out(
        "Every announcement names the controller, the notice address and how to refuse, "
        f"and lasts at most {CEILING_SECONDS:.0f} s per language."
    )
    return 0


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
