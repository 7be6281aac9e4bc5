"""How each language names a DTMF key after "press": pure, shared by the texts and the build."""

from __future__ import annotations

import structlog

from callrec_ari.errors import PromptError

DTMF_KEYS = frozenset("0123456789*#")

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
# Digits as a transcript of a studio recording may spell them.
_DIGIT_WORDS: dict[str, str] = {
    "en": "zero one two three four five six seven eight nine",
    "fi": "nolla yksi kaksi kolme neljä viisi kuusi seitsemän kahdeksan yhdeksän",
    "pl": "zero jeden dwa trzy cztery pięć sześć siedem osiem dziewięć",
    "ro": "zero unu doi trei patru cinci șase șapte opt nouă",
    "sv": "noll ett två tre fyra fem sex sju åtta nio",
}

_log = structlog.get_logger(__name__)


def check_key(key: str, *, what: str = "Decline key") -> None:
    """Raise PromptError unless ``key`` is one DTMF key."""
    if key not in DTMF_KEYS:
        raise PromptError(f"{what} {key!r} is not one DTMF key 0-9, * or #.")


def spoken_key(language: str, key: str) -> str:
    """How to write a DTMF key so espeak-ng says it naturally after "press" in ``language``."""
    check_key(key)
    if key.isdigit():
        return _DIGIT_PHRASES.get(language, "{digit}").format(digit=key)
    word = _KEY_WORDS.get(language, {}).get(key)
    if word is None:
        _log.warning("no word for the decline key", language=language, key=key)
        return key
    return word


def key_names(language: str, key: str) -> tuple[str, ...]:
    """Every way a text in ``language`` may name ``key``: the sign, the digit's word, the
    key's word, each lower-case."""
    check_key(key)
    names = [key]
    if key.isdigit():
        words = _DIGIT_WORDS.get(language)
        if words is not None:
            names.append(words.split()[int(key)])
    else:
        word = _KEY_WORDS.get(language, {}).get(key)
        if word is not None:
            names.append(word)
    return tuple(name.lower() for name in names)
