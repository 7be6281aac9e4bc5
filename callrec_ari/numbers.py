"""Phone numbers normalised to E.164, so that one person's calls are found however the network
spelt the number (``+48221000001``, ``0048221000001``, ``48221000001`` or ``221000001``).

Pure functions on top of ``phonenumbers`` (Google's libphonenumber metadata).
"""

from __future__ import annotations

import phonenumbers

from callrec_ari.errors import NumberError

_MAX_INPUT = 64


def to_e164(raw: str | None, region: str) -> str | None:
    """The E.164 form of a caller number as received, or None if it is not a phone number.

    ``region`` (ISO 3166 code, e.g. ``PL``) says how to read national numbers. Trunks often
    send international numbers without the ``+``, so a number invalid as national is tried
    again as international.
    """
    if not raw:
        return None
    text = raw.strip()[:_MAX_INPUT]
    candidates = [text] if text.startswith("+") else [text, f"+{text}"]
    possible: str | None = None
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if phonenumbers.is_valid_number(number):
            return formatted
        if possible is None and phonenumbers.is_possible_number(number):
            possible = formatted
    return possible


def parse_e164(text: str, region: str) -> str:
    """The E.164 form of a number a person typed; ``NumberError`` if it is not a phone number."""
    shown = text if len(text) <= _MAX_INPUT else text[:_MAX_INPUT] + "…"
    if not text.strip() or not all(ch.isdigit() or ch in "+-() ./" for ch in text.strip()):
        raise NumberError(
            f"Phone number {shown!r} is not a phone number (use E.164, e.g. +48221000001)."
        )
    cleaned = "".join(ch for ch in text if ch.isdigit() or ch == "+")
    number = to_e164(cleaned, region)
    if number is None:
        raise NumberError(
            f"Phone number {shown!r} is not a valid number for region {region} "
            "(use E.164, e.g. +48221000001)."
        )
    return number


def valid_region(region: str) -> bool:
    """Whether ``region`` is a region code libphonenumber knows (``PL``, ``SE``, ``FI``...)."""
    return region in phonenumbers.SUPPORTED_REGIONS
