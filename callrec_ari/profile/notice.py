"""The privacy notice (register description) as plain data, from the live settings: pure.

``build_notice(settings)`` gathers what seeds 002 and 003 put in a register description:
the controller and its contacts, each line's purposes, legal basis, recipients, storage and
retention, what callrec keeps and how it protects it, and where to complain. The words are
added per language by ``notice_text``; nothing here is translated or formatted.
"""

from __future__ import annotations

from dataclasses import dataclass

from callrec_ari.config import RetentionPolicy, Route, Settings
from callrec_ari.errors import ProfileNotFilledInError
from callrec_ari.profile.model import Processing, Profile


@dataclass(frozen=True, kw_only=True)
class Line:
    """Dialled numbers whose callers hear the same languages and are kept alike."""

    numbers: tuple[str, ...]  # empty: every number not listed elsewhere
    languages: tuple[str, ...]
    policy: RetentionPolicy
    processing: Processing


@dataclass(frozen=True, kw_only=True)
class Notice:
    """Everything the notice states, in the order seeds 002 and 003 state it."""

    profile: Profile
    lines: tuple[Line, ...]
    decline_key: str | None  # the key the announcement offers to refuse recording
    encrypted: bool  # the staff web app is served over TLS
    request_due_days: int  # data-subject requests are answered within this many days

    @property
    def processings(self) -> tuple[Processing, ...]:
        """The distinct processings of the lines, in line order."""
        seen: list[Processing] = []
        for line in self.lines:
            if line.processing not in seen:
                seen.append(line.processing)
        return tuple(seen)


def build_notice(settings: Settings) -> Notice:
    """The notice of ``settings`` (pass the effective ones: ``routing.store.effective``);
    ``ProfileNotFilledInError`` if the configuration has no real profile."""
    if settings.profile.placeholder:
        raise ProfileNotFilledInError(
            "The organisation profile is not filled in: set [profile] in the configuration "
            "(or on the admin's settings page) before a notice is published."
        )
    grouped: dict[Route, list[str]] = {}
    for did, route in sorted(settings.routes.items()):
        grouped.setdefault(route, []).append(did)
    lines = [_line(settings, route, tuple(dids)) for route, dids in grouped.items()]
    lines.append(_line(settings, settings.default_route, ()))
    return Notice(
        profile=settings.profile,
        lines=tuple(lines),
        decline_key=settings.consent.decline_key,
        encrypted=settings.web.tls_certificate is not None,
        request_due_days=settings.lifecycle.request_due_days,
    )


def _line(settings: Settings, route: Route, numbers: tuple[str, ...]) -> Line:
    return Line(
        numbers=numbers,
        languages=route.languages,
        policy=settings.retention[route.retention],
        processing=settings.processing_for(route),
    )
