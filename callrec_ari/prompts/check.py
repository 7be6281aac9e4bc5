"""What the profile says a caller must hear that a prompt text or recording may not say.

For each language a route plays: the announcement must name the controller and the notice
address, the decline key (when one is configured) must be named by the decline hint (and
without a key the announcement must say to hang up), and the two together must last at
most ``CEILING_SECONDS``. A studio recording cannot be read:
its transcript ``studio/<name>.txt`` is checked instead, and without one the recording is
reported as unverifiable, with what it must say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from callrec_ari.config import Settings
from callrec_ari.errors import PromptError
from callrec_ari.profile.announcement import (
    DECLINE_HINT,
    KEY_PLACEHOLDER,
    WORDINGS,
    compose,
    spoken_url,
)
from callrec_ari.profile.model import Processing, Profile
from callrec_ari.prompts.build import STUDIO_SUFFIXES, TRANSCRIPT_SUFFIX
from callrec_ari.prompts.compose import played_routes, processing_for
from callrec_ari.prompts.install import prompt_duration
from callrec_ari.prompts.keys import key_names
from callrec_ari.prompts.layout import STUDIO_FOLDER

CEILING_SECONDS = 12.0  # what every caller waits through per language before reaching anyone
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One thing a prompt fails to say or do, as one sentence."""

    language: str
    name: str
    message: str

    def __str__(self) -> str:
        return f"{self.language}/{self.name}: {self.message}"


@dataclass(frozen=True, kw_only=True)
class _Source:
    text: str | None  # None: a studio recording without a transcript
    what: str  # "The text" / "The studio recording's transcript"


def check_prompts(source_dir: Path, settings: Settings, profile: Profile | None) -> list[Finding]:
    """Every finding over the prompts ``settings`` play, in the order a caller hears them."""
    if profile is None:
        return [
            Finding(
                language="*",
                name="*",
                message="The configuration has no [profile], so the announcements cannot be "
                "checked against what callers must be told.",
            )
        ]
    decline_key = settings.consent.decline_key
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for _, route in played_routes(settings):
        for language in route.languages:
            if (language, route.prompt) in seen:
                continue
            seen.add((language, route.prompt))
            required = _required(profile, processing_for(profile, route), language, decline_key)
            findings += _check_language(
                source_dir / language,
                language=language,
                name=route.prompt,
                profile=profile,
                decline_key=decline_key,
                required=required,
            )
    return findings


def _required(profile: Profile, processing: Processing, language: str, key: str | None) -> str:
    """What the caller must hear, for a studio recording that cannot be verified."""
    if language not in WORDINGS:
        return (
            f"who records ({profile.controller_name}), why, that staying on is consent, how "
            f"to refuse, and where the full notice is ({profile.notice_url})"
        )
    return f'"{compose(profile, processing, language, key)}"'


def _check_language(
    folder: Path,
    *,
    language: str,
    name: str,
    profile: Profile,
    decline_key: str | None,
    required: str,
) -> list[Finding]:
    findings = []
    announcement = _source(folder, name)
    if announcement is None:
        findings.append(Finding(language=language, name=name, message="There is no text."))
    elif announcement.text is None:
        findings.append(_unverifiable(language, name, required))
    else:
        findings += _says_who_and_where(language, name, announcement, profile)
        if decline_key is None:
            findings += _says_hang_up(language, name, announcement)
    names = [name]
    if decline_key is not None:
        names.append(DECLINE_HINT)
        hint = _source(folder, DECLINE_HINT)
        if hint is None:
            findings.append(
                Finding(language=language, name=DECLINE_HINT, message="There is no text.")
            )
        elif hint.text is None:
            findings.append(_unverifiable(language, DECLINE_HINT, required))
        elif not _names_key(hint.text, language, decline_key):
            findings.append(
                Finding(
                    language=language,
                    name=DECLINE_HINT,
                    message=f"{hint.what} does not name the decline key {decline_key}.",
                )
            )
    findings += _length(folder, language, names)
    return findings


def _source(folder: Path, name: str) -> _Source | None:
    """The words of a prompt: its transcript if a studio recording plays, else its text."""
    studio = folder / STUDIO_FOLDER
    recorded = studio.is_dir() and any(
        path.stem == name and path.suffix.lower() in STUDIO_SUFFIXES for path in studio.iterdir()
    )
    if recorded:
        transcript = studio / f"{name}{TRANSCRIPT_SUFFIX}"
        if not transcript.is_file():
            return _Source(text=None, what="The studio recording")
        return _Source(text=_read(transcript), what="The studio recording's transcript")
    text = folder / f"{name}.txt"
    if not text.is_file():
        return None
    return _Source(text=_read(text), what="The text")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PromptError(f"Prompt text {path} is not UTF-8 text.") from None
    except OSError as exc:
        raise PromptError(f"Prompt text {path} cannot be read: {exc.strerror}.") from None


def _unverifiable(language: str, name: str, required: str) -> Finding:
    return Finding(
        language=language,
        name=name,
        message=f"The studio recording cannot be verified without a transcript "
        f"({STUDIO_FOLDER}/{name}{TRANSCRIPT_SUFFIX}); it must say {required}.",
    )


def _says_who_and_where(
    language: str, name: str, source: _Source, profile: Profile
) -> list[Finding]:
    said = _normalised(source.text or "")
    findings = []
    if _normalised(profile.controller_name) not in said:
        findings.append(
            Finding(
                language=language,
                name=name,
                message=f"{source.what} does not name the controller, "
                f"{profile.controller_name.strip()}.",
            )
        )
    if not any(address in said for address in _addresses(profile.notice_url, language)):
        findings.append(
            Finding(
                language=language,
                name=name,
                message=f"{source.what} does not say where the full notice is "
                f"({profile.notice_url.strip()}).",
            )
        )
    return findings


def _says_hang_up(language: str, name: str, source: _Source) -> list[Finding]:
    """Without a decline key the announcement is the only place that says how to refuse."""
    if language not in WORDINGS:
        return []  # no wording to compare with; the text is the admin's own
    hang_up = WORDINGS[language].hang_up.strip()
    if _normalised(hang_up) in _normalised(source.text or ""):
        return []
    return [
        Finding(
            language=language,
            name=name,
            message=f"{source.what} does not say how to refuse, and no decline key is "
            f'offered: it must say "{hang_up}"',
        )
    ]


def _addresses(url: str, language: str) -> list[str]:
    """The notice address as written (without its scheme) and, if callrec speaks the
    language, as spoken."""
    written = _SCHEME.sub("", url.strip()).rstrip("/")
    found = [_normalised(written)]
    if language in WORDINGS:
        found.append(_normalised(spoken_url(url, language)))
    return found


def _names_key(text: str, language: str, key: str) -> bool:
    if KEY_PLACEHOLDER in text:
        return True  # the build speaks the configured key there
    words = _normalised(text)
    return any(
        re.search(rf"(?<!\w){re.escape(name)}(?!\w)", words) for name in key_names(language, key)
    )


def _length(folder: Path, language: str, names: list[str]) -> list[Finding]:
    total = 0.0
    for name in names:
        wav = folder / f"{name}.wav"
        if not wav.is_file():
            return [
                Finding(
                    language=language,
                    name=name,
                    message="It is not built yet: run `callrec prompts build`.",
                )
            ]
        total += prompt_duration(wav)
    if total > CEILING_SECONDS:
        heard = " and the ".join(names)
        return [
            Finding(
                language=language,
                name=names[0],
                message=f"The {heard} last {total:.1f} s together, longer than the "
                f"{CEILING_SECONDS:.0f} s every caller may be kept waiting.",
            )
        ]
    return []


def _normalised(text: str) -> str:
    return " ".join(text.casefold().split())
