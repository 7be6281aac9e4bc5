"""Translations: every text on the pages has each language's version; the browser's is chosen."""

from __future__ import annotations

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from callrec_ari.records import Consent, RecordingStatus
from callrec_ari.web.errors import GENERIC, TITLES
from callrec_ari.web.i18n import LANGUAGES, LOCALE_DIR, negotiate
from callrec_ari.web.render import TEMPLATE_DIR

# Texts the templates translate from values, not literals.
DYNAMIC = {
    *(consent.value for consent in Consent),
    *(status.value for status in RecordingStatus),
    "quality",
    "complaint",
    "dispute",
    "legal",
    "data_subject",
    "training",
    "Wrong username or password.",
    "Wrong code.",
    *GENERIC,  # the error page's own sentences and titles
    *TITLES.values(),
}


def template_messages() -> set[str]:
    found = extract_from_dir(
        str(TEMPLATE_DIR),
        method_map=[("**.html", "jinja2.ext:babel_extract")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
    )
    return {message for _, _, message, _, _ in found if isinstance(message, str)}


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_every_page_text_is_translated(language):
    """A new label without its Polish, Swedish, Finnish or Romanian text fails here."""
    with (LOCALE_DIR / f"{language}.po").open("rb") as source:
        catalog = read_po(source, locale=language)
    translated = {message.id for message in catalog if message.id and message.string}
    missing = (template_messages() | DYNAMIC) - translated
    assert not missing, f"{language}.po lacks {sorted(missing)}"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("sv-SE,sv;q=0.9,en;q=0.5", "sv"),
        ("de-DE,ro;q=0.8", "ro"),
        ("fi", "fi"),
        ("de, fr", "en"),
        ("", "en"),
        (None, "en"),
        ("q=;;;,,pl;q=abc", "en"),
        ("x" * 5000, "en"),
    ],
)
def test_the_browser_s_language_is_negotiated(header, expected):
    """The best of our languages for Accept-Language; garbage falls back to the default."""
    assert negotiate(header, "en") == expected
