"""The privacy notice's fixed sentences in each of callrec's five languages.

Every language has every key (a test holds it): a notice is never half in English. Values
are ``str.format`` templates; ``{n}`` counts pick a plural form with ``plural_form``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from callrec_ari.profile.notice_lang import en, fi, pl, ro, sv

LANGUAGES = ("en", "pl", "sv", "fi", "ro")


def plural_form(language: str, n: int) -> str:
    """The CLDR plural category (``one``, ``few`` or ``other``) of ``n`` in ``language``."""
    if n == 1:
        return "one"
    if language == "pl" and n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return "few"
    if language == "ro" and (n == 0 or 1 <= n % 100 <= 19):
        return "few"
    return "other"


CATALOG: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "en": MappingProxyType(en.WORDS),
        "pl": MappingProxyType(pl.WORDS),
        "sv": MappingProxyType(sv.WORDS),
        "fi": MappingProxyType(fi.WORDS),
        "ro": MappingProxyType(ro.WORDS),
    }
)
