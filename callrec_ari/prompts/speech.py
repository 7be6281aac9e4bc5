"""Speech from text with espeak-ng at a natural pace; ``keys`` names the keys."""

from __future__ import annotations

from pathlib import Path

from callrec_ari.prompts.audio import run_tool
from callrec_ari.prompts.keys import DTMF_KEYS, spoken_key

__all__ = ["DTMF_KEYS", "check_voice", "spoken_key", "synthesise", "voice"]

# espeak-ng's own default pace in every voice: about 160 words a minute of English with its
# pauses, about 4.5 syllables a second in each language here. A natural rate, not sped up to
# fit the 12 s ceiling of the announcement: the texts are short enough instead.
DEFAULT_SPEED_WPM = 175
_VOICES: dict[str, str] = {"en": "en-gb", "fi": "fi", "pl": "pl", "ro": "ro", "sv": "sv"}


def voice(language: str) -> tuple[str, int]:
    """The espeak-ng voice and speed (words a minute) for a language code such as pt_BR."""
    name = _VOICES.get(language, language.lower().replace("_", "-"))
    return name, DEFAULT_SPEED_WPM


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
