"""Which prompts a configuration plays, in which languages, and what is installed of them.

Pass the *effective* settings (``routing.store.effective``: the config file with the
admin's run-time routes applied): a language or an announcement an admin added to a route
is one callers will hear, so it is listed and may be uploaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from callrec_ari.config import Settings
from callrec_ari.errors import PromptError
from callrec_ari.prompts.build import DECLINE_HINT
from callrec_ari.prompts.install import prompt_duration
from callrec_ari.prompts.layout import SOUNDS_FOLDER

__all__ = ["Installed", "inspect_installed", "installed_path", "prompt_names", "route_languages"]


@dataclass(frozen=True, kw_only=True)
class Installed:
    """One prompt as Asterisk finds it: its length, or why it would not play."""

    language: str
    name: str
    seconds: float | None  # None: missing or not playable
    problem: str | None  # "missing" or "unplayable"
    changed_at: datetime | None


def route_languages(settings: Settings) -> list[str]:
    """Every language a caller may hear, over the default route and all DID routes."""
    found = set(settings.default_route.languages)
    for route in settings.routes.values():
        found.update(route.languages)
    return sorted(found)


def prompt_names(settings: Settings) -> list[str]:
    """The prompts this configuration plays: announcements first, then the consent prompts."""
    announcements = {settings.default_route.prompt} | {
        route.prompt for route in settings.routes.values()
    }
    others = [settings.consent.decline_prompt, settings.consent.not_recorded_prompt]
    if settings.consent.decline_key is not None:
        others.insert(0, DECLINE_HINT)
    return [*sorted(announcements), *(name for name in others if name not in announcements)]


def installed_path(settings: Settings, language: str, name: str) -> Path:
    """Where Asterisk plays ``sound:callrec/<name>`` in ``language`` from."""
    return settings.prompts.sounds_dir / language / SOUNDS_FOLDER / f"{name}.wav"


def inspect_installed(settings: Settings) -> list[Installed]:
    """Each prompt of each language ``settings`` play, as installed (reads the files: call
    it in a worker thread from async code)."""
    found = []
    for language in route_languages(settings):
        for name in prompt_names(settings):
            path = installed_path(settings, language, name)
            seconds: float | None = None
            problem: str | None = None
            changed_at = None
            try:
                changed_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                seconds = prompt_duration(path)
            except FileNotFoundError:
                problem = "missing"
            except (OSError, PromptError):
                problem = "unplayable"
            found.append(
                Installed(
                    language=language,
                    name=name,
                    seconds=seconds,
                    problem=problem,
                    changed_at=changed_at,
                )
            )
    return found
