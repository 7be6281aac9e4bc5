"""Which announcement texts the configuration's profile composes, and writing them out.

``profile_of`` and ``processing_for`` are the one place that reads the profile from the
settings; ``plan`` is pure; ``write_texts`` puts the texts where ``build_prompts`` speaks them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from callrec_ari.config import Route, Settings
from callrec_ari.config.outbound import NoConsentAction, OutboundRoute
from callrec_ari.errors import PromptError
from callrec_ari.profile.announcement import (
    DECLINE_HINT,
    WORDINGS,
    announcement_text,
    compose_outbound,
    decline_hint_text,
)
from callrec_ari.profile.model import Processing, Profile


@dataclass(frozen=True, kw_only=True)
class ComposedText:
    """One prompt's text in one language, and the routes that play it."""

    language: str
    name: str
    text: str
    routes: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Plan:
    """The texts to write, and the prompts kept as written: no wording exists for their
    language, or a route plays a consent prompt (such as the decline hint) as its
    announcement."""

    texts: tuple[ComposedText, ...]
    as_written: tuple[tuple[str, str], ...]  # (language, name)


def profile_of(settings: Settings) -> Profile | None:
    """The configured profile, or None when the configuration has none to compose from (its
    stand-in says so with ``placeholder``)."""
    profile = settings.profile
    return None if profile.placeholder else profile


def processing_for(profile: Profile, route: Route) -> Processing:
    """What ``route``'s recordings are for: its own processing, else the profile's."""
    return route.processing if route.processing is not None else profile.processing


def played_routes(settings: Settings) -> list[tuple[str, Route]]:
    """Every route with a label for messages: the default route, then each number."""
    return [
        ("the default route", settings.default_route),
        *((f"number {did}", route) for did, route in sorted(settings.routes.items())),
    ]


def _outbound_routes(settings: Settings) -> list[tuple[str, OutboundRoute]]:
    """The outbound routes in force, labelled for messages; none while outbound is off."""
    outbound = settings.outbound
    if not outbound.enabled:
        return []
    return [(f"outbound route {index}", route) for index, route in enumerate(outbound.routes)]


def plan(settings: Settings, profile: Profile) -> Plan:
    """The announcement (and decline hint) texts ``settings`` play, composed from ``profile``,
    and the outbound announcement of each outbound route in force.

    Two routes that play the same prompt name in the same language but would have it say
    different things (other purposes) are refused: one file cannot say both.
    """
    consent = settings.consent
    decline_key = consent.decline_key
    # A route may play one of the consent prompts as its announcement (a test line does):
    # that text is not an announcement to compose.
    not_announcements = {DECLINE_HINT, consent.decline_prompt, consent.not_recorded_prompt}
    found: dict[tuple[str, str], dict[str, list[str]]] = {}
    as_written: set[tuple[str, str]] = set()
    for label, route in played_routes(settings):
        processing = processing_for(profile, route)
        for language in route.languages:
            if language not in WORDINGS or route.prompt in not_announcements:
                as_written.add((language, route.prompt))
                continue
            text = announcement_text(profile, processing, language, decline_key)
            found.setdefault((language, route.prompt), {}).setdefault(text, []).append(label)
            if decline_key is not None:
                hint = decline_hint_text(language)
                found.setdefault((language, DECLINE_HINT), {}).setdefault(hint, []).append(label)
    for label, outbound in _outbound_routes(settings):
        ends = outbound.on_no_consent == NoConsentAction.HANGUP
        for language in outbound.languages:
            if language not in WORDINGS or outbound.prompt in not_announcements:
                as_written.add((language, outbound.prompt))
                continue
            text = compose_outbound(
                profile, profile.processing, language, outbound.agree_key, ends_without_consent=ends
            )
            found.setdefault((language, outbound.prompt), {}).setdefault(text, []).append(label)
    texts = []
    for (language, name), variants in sorted(found.items()):
        if len(variants) > 1:
            first, second = (labels[0] for labels in variants.values())
            raise PromptError(
                f"Prompt {name!r} in {language!r} would say different things for {first} "
                f"and {second} (other purposes): give one of them its own prompt name."
            )
        [(text, labels)] = variants.items()
        texts.append(ComposedText(language=language, name=name, text=text, routes=tuple(labels)))
    return Plan(texts=tuple(texts), as_written=tuple(sorted(as_written)))


def write_texts(source_dir: Path, texts: Iterable[ComposedText]) -> list[Path]:
    """Write each text to ``<source_dir>/<lang>/<name>.txt``; the files that changed."""
    changed = []
    for composed in texts:
        path = source_dir / composed.language / f"{composed.name}.txt"
        content = composed.text + "\n"
        try:
            if path.is_file() and path.read_text(encoding="utf-8") == content:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise PromptError(f"Prompt text {path} cannot be written: {reason}.") from None
        changed.append(path)
    return changed
