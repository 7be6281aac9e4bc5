"""The privacy notice in words: a ``Notice`` rendered as HTML or plain text in one language.

The fixed sentences come from ``notice_words``; the profile's own texts (names, addresses,
recipients, free purpose text) are shown as the admin wrote them. Country and language
names are the language's own (CLDR, through Babel).
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

from babel import Locale
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from callrec_ari.config import RetentionPolicy
from callrec_ari.errors import InputError
from callrec_ari.profile.notice import Line, Notice
from callrec_ari.profile.notice_words import CATALOG, LANGUAGES, plural_form

TEMPLATES = Path(__file__).resolve().parent / "templates"
RIGHTS = (
    "right_access",
    "right_rectification",
    "right_erasure",
    "right_restriction",
    "right_objection",
    "right_portability",
    "right_withdraw",
)
DATA = ("data_number", "data_time", "data_extension", "data_audio", "data_consent")


class NoticeFormat(enum.StrEnum):
    """The forms the notice is given in."""

    HTML = "html"
    TXT = "txt"


class Words:
    """One language's sentences and names, as the templates use them."""

    def __init__(self, language: str) -> None:
        if language not in CATALOG:
            known = ", ".join(LANGUAGES)
            raise InputError(f"The notice has no language {language[:20]!r} (known: {known}).")
        self.language = language
        self._words = CATALOG[language]
        self._locale = Locale.parse(language)

    def __call__(self, name: str, /, **values: Any) -> str:
        """The sentence ``name`` with ``values`` filled in."""
        return self._words[name].format(**values)

    def period(self, policy: RetentionPolicy) -> str:
        """``7 days``, ``6 months`` in this language."""
        unit, count = (
            ("days", policy.days) if policy.days is not None else ("months", policy.months)
        )
        return self.count(unit, count or 0)

    def count(self, unit: str, n: int) -> str:
        """``n`` days or months, in this language's plural form."""
        return self(f"{unit}.{plural_form(self.language, n)}", n=n)

    def country(self, code: str) -> str:
        """A country's name in this language; the code itself if CLDR has none."""
        return str(self._locale.territories.get(code, code))

    def languages(self, codes: tuple[str, ...]) -> str:
        """Language names in this language, joined."""
        return ", ".join(str(self._locale.languages.get(code, code)) for code in codes)

    def line(self, line: Line) -> str:
        """``Numbers 5551000, 5551001`` or ``All other numbers``."""
        if not line.numbers:
            return self("line_other")
        key = "line_number" if len(line.numbers) == 1 else "line_numbers"
        return self(key, numbers=", ".join(line.numbers))


_ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render(notice: Notice, language: str, form: NoticeFormat = NoticeFormat.HTML) -> str:
    """The notice in ``language`` as ``form``; ``InputError`` for a language we lack."""
    words = Words(language)
    template = _ENVIRONMENT.get_template(f"notice.{form.value}")
    return template.render(
        t=words,
        notice=notice,
        profile=notice.profile,
        language=language,
        rights=RIGHTS,
        data=DATA,
        # One sentence for all lines where they agree, else one per line.
        recipients_shared=len({p.recipients for p in notice.processings}) == 1,
        storage_shared=len({(p.storage_country, p.transfers) for p in notice.processings}) == 1,
        any_months=any(line.policy.months is not None for line in notice.lines),
    )
