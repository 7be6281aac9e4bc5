"""The privacy notice: every section in every language, from the live configuration."""

from __future__ import annotations

import dataclasses
import re
import string
from datetime import UTC, datetime

import pytest

from callrec_ari.access import Actor, Role
from callrec_ari.errors import InputError, ProfileNotFilledInError
from callrec_ari.profile.model import PLACEHOLDER_PROFILE
from callrec_ari.profile.notice import build_notice
from callrec_ari.profile.notice_text import NoticeFormat, render
from callrec_ari.profile.notice_words import CATALOG, LANGUAGES, plural_form
from callrec_ari.routing import store
from tests.flow.conftest import example_settings

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
ADMIN = Actor.of("ada", Role.ADMIN)
HEADINGS = [key for key in CATALOG["en"] if key.startswith("h_")]


@pytest.fixture
def settings(tmp_path):
    """The example config's settings (a fictitious organisation's profile)."""
    return example_settings(tmp_path)


def test_every_language_has_every_sentence():
    """No language lacks a key English has, or has one English lacks, or changes a field."""
    fields = string.Formatter()
    for language in LANGUAGES:
        assert set(CATALOG[language]) == set(CATALOG["en"]), language
        for key, text in CATALOG[language].items():
            names = {name for _, name, _, _ in fields.parse(text) if name}
            english = {name for _, name, _, _ in fields.parse(CATALOG["en"][key]) if name}
            assert names == english, (language, key)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("form", list(NoticeFormat))
def test_each_language_renders_every_section_complete(settings, language, form):
    """Every heading, line, right and contact is there; no template field or key is left."""
    text = render(build_notice(settings), language, form)
    words = CATALOG[language]
    for heading in HEADINGS:
        assert words[heading] in text
    for did in ("5551000", "5552000", "5553000", "5554000"):
        assert did in text
    for key in ("right_access", "right_erasure", "right_portability", "right_withdraw"):
        assert words[key] in text
    profile = settings.profile
    for value in (profile.controller_name, profile.notice_url, "dpo@aurora.example"):
        assert value in text
    assert "Urzędu Ochrony Danych Osobowych" in text
    assert not re.search(r"\{[a-z_]*\}|\{\{|\{%|purpose\.|basis\.|not filled in", text)
    if language != "en":  # a fixed English sentence would mean an untranslated one
        for key, english in CATALOG["en"].items():
            if "{" not in english and key not in ("h_authority",):
                assert english not in text, (language, key)


def test_the_notice_says_what_each_line_keeps_and_where(settings):
    """Per line: its languages and period; the example's storage country; 30 days to answer."""
    text = render(build_notice(settings), "en", NoticeFormat.TXT)
    assert "Number 5551000 (announcement in Polish): kept for 7 days" in text
    assert "Number 5552000 (announcement in Finnish, Swedish): kept for 6 months" in text
    assert "Number 5553000 (announcement in Swedish): kept for 3 months" in text
    assert "All other numbers (announcement in English): kept for 6 months" in text
    assert "stored in Poland" in text
    assert "We answer within 30 days" in text
    assert "by pressing 9" in text
    assert "a task carried out in the public interest" in text  # the Finnish line's basis
    assert "Number 5554000: Also: the call-centre operator" in text


def test_plural_forms_follow_each_language():
    """Polish 2-4 (not 12-14) and Romanian under 20 take their own forms."""
    words = {
        (lang, n): plural_form(lang, n)
        for lang in ("pl", "ro", "en")
        for n in (1, 3, 6, 13, 22, 25)
    }
    assert [words["pl", n] for n in (1, 3, 6, 13, 22, 25)] == [
        "one",
        "few",
        "other",
        "other",
        "few",
        "other",
    ]
    assert [words["ro", n] for n in (1, 3, 6, 13, 22, 25)] == [
        "one",
        "few",
        "few",
        "few",
        "other",
        "other",
    ]
    assert [words["en", n] for n in (1, 3, 6)] == ["one", "other", "other"]


def test_tls_is_claimed_only_when_configured(settings):
    """The notice says the connection is encrypted only if the web app serves TLS."""
    plain = render(build_notice(settings), "en", NoticeFormat.TXT)
    assert CATALOG["en"]["security_tls"] not in plain
    web = dataclasses.replace(settings.web, tls_certificate=settings.web.secret_key_file)
    encrypted = render(build_notice(dataclasses.replace(settings, web=web)), "en", NoticeFormat.TXT)
    assert CATALOG["en"]["security_tls"] in encrypted


def test_the_html_escapes_the_profile_s_texts(settings):
    """A profile text with markup is shown as text, never run as markup."""
    profile = dataclasses.replace(settings.profile, controller_name="<script>x</script> Ltd")
    html = render(build_notice(dataclasses.replace(settings, profile=profile)), "en")
    assert "<script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt; Ltd" in html


def test_a_placeholder_profile_is_not_published(settings):
    """Without [profile] the notice is refused with one sentence saying what to fill in."""
    bare = dataclasses.replace(settings, profile=PLACEHOLDER_PROFILE)
    with pytest.raises(ProfileNotFilledInError, match=r"not filled in: set \[profile\]"):
        build_notice(bare)


def test_an_unknown_language_is_named(settings):
    """A language the notice lacks is one sentence listing those it has."""
    with pytest.raises(InputError, match=r"no language 'de' \(known: en, pl, sv, fi, ro\)"):
        render(build_notice(settings), "de")


async def test_a_retention_change_by_the_admin_changes_the_notice(session_factory, settings):
    """The issue's test: the admin sets the Polish line's policy to 1 month; the notice says so."""
    async with session_factory() as db:
        before = render(build_notice(await store.effective(db, settings)), "pl", NoticeFormat.TXT)
    assert "Numer 5551000 (zapowiedź w językach: polski): przechowywane przez 7 dni" in before
    async with session_factory() as db, db.begin():
        await store.set_policy(db, by=ADMIN, settings=settings, name="days-7", months=1, now=NOW)
    async with session_factory() as db:
        after = render(build_notice(await store.effective(db, settings)), "pl", NoticeFormat.TXT)
    assert "Numer 5551000 (zapowiedź w językach: polski): przechowywane przez 1 miesiąc" in after
    assert "7 dni" not in after
