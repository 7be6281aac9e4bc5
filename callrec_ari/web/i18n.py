"""Translations of the staff pages: gettext catalogs read from the .po files at start-up.

The .po files are the source; they are compiled in memory with Babel, so there is no build
step and no compiled file to forget. English is the source language.
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "pl", "sv", "fi", "ro")


@functools.cache  # the .po files are package data: compiled once per process
def load_catalogs(directory: Path = LOCALE_DIR) -> Mapping[str, gettext.NullTranslations]:
    """One translations object per language; English passes messages through."""
    catalogs: dict[str, gettext.NullTranslations] = {"en": gettext.NullTranslations()}
    for language in LANGUAGES[1:]:
        with (directory / f"{language}.po").open("rb") as source:
            catalog = read_po(source, locale=language)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        catalogs[language] = gettext.GNUTranslations(compiled)
    return MappingProxyType(catalogs)


def negotiate(accept_language: str | None, default: str) -> str:
    """The best of our languages for an ``Accept-Language`` header, else ``default``."""
    if accept_language:
        wanted = []
        for part in accept_language.split(",")[:20]:
            tag, _, params = part.strip().partition(";")
            quality = 1.0
            if params.strip().startswith("q="):
                try:
                    quality = float(params.strip()[2:])
                except ValueError:
                    continue
            wanted.append((quality, tag.strip().replace("-", "_")))
        preferred = [tag for _, tag in sorted(wanted, key=lambda item: -item[0]) if tag]
        try:
            found = Locale.negotiate(preferred, list(LANGUAGES), sep="_")
        except (ValueError, UnknownLocaleError):
            found = None
        if found is not None:
            return str(found.language)
    return default


def language_names() -> Mapping[str, str]:
    """Each language in its own words, for the language menu."""
    return {code: Locale.parse(code).get_display_name(code) or code for code in LANGUAGES}
