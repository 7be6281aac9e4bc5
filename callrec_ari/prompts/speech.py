"""Speech from text with espeak-ng, and how each language names the decline key."""

from __future__ import annotations

from pathlib import Path

import structlog

from callrec_ari.errors import PromptError
from callrec_ari.prompts.audio import run_tool

DTMF_KEYS = frozenset("0123456789*#")
DEFAULT_SPEED_WPM = 185

# espeak-ng's voices differ in pace; these speeds give each roughly 5 to 6 syllables a second,
# brisk enough to keep the announcement under 25 s and still easy to follow.
_VOICES: dict[str, tuple[str, int]] = {
    "en": ("en-gb", 185),
    "fi": ("fi", 200),
    "pl": ("pl", 205),
    "ro": ("ro", 195),
    "sv": ("sv", 200),
}

# The key as the object of "press" in each language (Polish accusative, Finnish partitive).
_KEY_WORDS: dict[str, dict[str, str]] = {
    "en": {"*": "star", "#": "hash"},
    "fi": {"*": "tähtimerkkiä", "#": "risuaitaa"},
    "pl": {"*": "gwiazdkę", "#": "krzyżyk"},
    "ro": {"*": "steluță", "#": "diez"},
    "sv": {"*": "stjärna", "#": "fyrkant"},
}
# Finnish says "paina numeroa yhdeksän": a bare numeral after "paina" is in the wrong case.
_DIGIT_PHRASES: dict[str, str] = {"fi": "numeroa {digit}"}

_log = structlog.get_logger(__name__)


def voice(language: str) -> tuple[str, int]:
    """The espeak-ng voice and speed (words a minute) for a language code such as pt_BR."""
    return _VOICES.get(language, (language.lower().replace("_", "-"), DEFAULT_SPEED_WPM))


def check_voice(language: str, folder: Path) -> None:
    """Raise PromptError unless espeak-ng has a voice for the language of ``folder``."""
    name, _ = voice(language)
    run_tool(
        ["espeak-ng", "-q", "-v", name, "--stdin"],
        what=f"Prompt folder {folder} needs an espeak-ng voice for {language!r}",
        stdin=b"a",
    )


def synthesise(text: str, language: str, target: Path, *, origin: Path) -> None:
    """Speak ``text`` into a WAV file at ``target``; errors name ``origin``."""
    name, speed = voice(language)
    run_tool(
        ["espeak-ng", "-v", name, "-s", str(speed), "-b", "1", "-w", str(target), "--stdin"],
        what=f"Prompt text {origin} could not be spoken",
        stdin=text.encode(),
    )


def spoken_key(language: str, key: str) -> str:
    """How to write a DTMF key so espeak-ng says it naturally after "press" in ``language``."""
    if key not in DTMF_KEYS:
        raise PromptError(f"Decline key {key!r} is not one DTMF key 0-9, * or #.")
    if key.isdigit():
        return _DIGIT_PHRASES.get(language, "{digit}").format(digit=key)
    word = _KEY_WORDS.get(language, {}).get(key)
    if word is None:
        _log.warning("no word for the decline key", language=language, key=key)
        return key
    return word
