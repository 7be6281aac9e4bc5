"""The first layer of the notice, composed from the profile in every language."""

from __future__ import annotations

import dataclasses

import pytest

from callrec_ari.errors import PromptError
from callrec_ari.profile.announcement import (
    LANGUAGES,
    WORDINGS,
    announcement_text,
    compose,
    compose_outbound,
    spoken_url,
)
from callrec_ari.profile.announcement_example import EXAMPLE_PROFILE
from callrec_ari.profile.model import Processing, Purpose

PROFILE = EXAMPLE_PROFILE
PROCESSING = EXAMPLE_PROFILE.processing
# How each language would promise to call back, or mention how long recordings are kept:
# neither belongs in the first layer (seed 004 records outbound calls; retention is in the
# full notice).
FORBIDDEN = {
    "en": ("call you back", "call back", "days", "months", "kept"),
    "pl": ("oddzwon", "dni", "miesi", "przechowuj"),
    "sv": ("ringer upp", "ringa upp", "dagar", "månader", "sparas"),
    "fi": ("soitta", "päivä", "kuukau", "säilyt"),
    "ro": ("sunăm", "suna înapoi", "zile", "luni", "păstr"),
}


def test_the_five_languages_have_a_wording():
    """English, Polish, Swedish, Finnish and Romanian, as the seeds and the web app."""
    assert LANGUAGES == ("en", "fi", "pl", "ro", "sv")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_names_controller_notice_and_key(language):
    """Who records, where the notice is and the decline key, with no placeholder left."""
    text = compose(PROFILE, PROCESSING, language, "9")
    assert "Aurora Services" in text
    assert spoken_url(PROFILE.notice_url, language) in text
    assert "9" in text
    assert "{" not in text
    assert "}" not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_nothing_promises_a_call_back_or_states_a_retention(language):
    """No unrecorded call-back promise, no retention period: the notice says the rest."""
    for key in ("9", None):
        text = compose(PROFILE, PROCESSING, language, key).casefold()
        for word in FORBIDDEN[language]:
            assert word not in text, (word, text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_at_most_two_purposes_are_spoken(language):
    """The example lists three purposes; the caller hears the first two only."""
    said = WORDINGS[language].purposes
    text = compose(PROFILE, PROCESSING, language, "9")
    assert said[Purpose.SERVICE_QUALITY] in text
    assert said[Purpose.EVIDENCE] in text
    assert said[Purpose.STAFF_SAFETY] not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_route_is_announced_with_its_own_purposes(language):
    """A route recorded for training says so, not the default route's purposes."""
    training = Processing(purposes=(Purpose.TRAINING,))
    text = compose(PROFILE, training, language, "9")
    assert WORDINGS[language].purposes[Purpose.TRAINING] in text
    assert WORDINGS[language].purposes[Purpose.SERVICE_QUALITY] not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_without_a_decline_key_the_caller_is_told_to_hang_up(language):
    """No key configured: the announcement itself says how to refuse (hang up)."""
    with_key = announcement_text(PROFILE, PROCESSING, language, "9")
    without = announcement_text(PROFILE, PROCESSING, language, None)
    assert WORDINGS[language].hang_up.strip() in without
    assert WORDINGS[language].hang_up.strip() not in with_key
    assert compose(PROFILE, PROCESSING, language, None) == without


@pytest.mark.parametrize(
    ("language", "spoken"),
    [
        ("en", "aurora dot example slash notice"),
        ("pl", "aurora kropka example ukośnik notice"),
        ("sv", "aurora punkt example snedstreck notice"),
        ("fi", "aurora piste example kauttaviiva notice"),
        ("ro", "aurora punct example bară notice"),
    ],
)
def test_the_notice_address_is_spoken_as_words(language, spoken):
    """No https://, no trailing slash; dots and slashes said the way the language says them."""
    assert spoken_url("https://aurora.example/notice/", language) == spoken


def test_the_controller_name_is_taken_from_the_profile():
    """Another controller is named, never the example's."""
    other = dataclasses.replace(PROFILE, controller_name="Miasto Bytom", notice_url="bytom.pl")
    text = compose(other, PROCESSING, "pl", "9")
    assert text.startswith("Miasto Bytom nagrywa")
    assert "bytom kropka pl" in text
    assert "Aurora" not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_outbound_announcement_asks_for_the_agree_key(language):
    """Who calls, why, the agree key (not the decline key) and the notice; what happens
    without it depends on the route."""
    unrecorded = compose_outbound(PROFILE, PROCESSING, language, "1")
    ends = compose_outbound(PROFILE, PROCESSING, language, "1", ends_without_consent=True)
    for text in (unrecorded, ends):
        assert "Aurora Services" in text
        assert "1" in text
        assert "9" not in text
        assert spoken_url(PROFILE.notice_url, language) in text
        assert "{" not in text
    assert WORDINGS[language].otherwise_unrecorded in unrecorded
    assert WORDINGS[language].otherwise_ends in ends


def test_a_language_without_wording_is_refused_with_what_to_do():
    """German has no wording: the error says to write the text by hand."""
    with pytest.raises(PromptError, match=r"prompts/de/announcement\.txt"):
        compose(PROFILE, PROCESSING, "de", "9")


def test_keys_that_are_not_dtmf_are_refused():
    """Neither the decline nor the agree key may be something a phone cannot send."""
    with pytest.raises(PromptError, match="Decline key"):
        compose(PROFILE, PROCESSING, "en", "99")
    with pytest.raises(PromptError, match="Agree key"):
        compose_outbound(PROFILE, PROCESSING, "en", "x")
