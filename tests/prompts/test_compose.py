"""Which texts the profile composes for the routes a configuration plays."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from callrec_ari.config import Route, Settings, load
from callrec_ari.config.outbound import NoConsentAction, OutboundRoute
from callrec_ari.errors import PromptError
from callrec_ari.profile.announcement import announcement_text
from callrec_ari.profile.announcement_example import EXAMPLE_PROFILE
from callrec_ari.profile.model import PLACEHOLDER_PROFILE, Processing, Purpose
from callrec_ari.prompts.compose import plan, profile_of, write_texts
from tests.prompts.conftest import LANGUAGES, REPO_PROMPTS

EXAMPLE_CONFIG = REPO_PROMPTS.parent / "config.example.toml"


@pytest.fixture
def settings() -> Settings:
    """The example configuration: five languages over five routes, decline key 9."""
    return load(EXAMPLE_CONFIG, {})


def test_the_example_configuration_composes_every_language(settings):
    """An announcement and a decline hint in each of the five languages its routes play."""
    composed = plan(settings, EXAMPLE_PROFILE)
    assert sorted((t.language, t.name) for t in composed.texts) == [
        (language, name) for language in LANGUAGES for name in ("announcement", "decline-hint")
    ]
    assert composed.as_written == ()
    [polish] = [t for t in composed.texts if (t.language, t.name) == ("pl", "announcement")]
    assert polish.routes == ("number 5551000",)


def test_the_committed_texts_are_the_example_profiles(settings):
    """prompts/ holds what config.example.toml's profile composes, so the WAVs match it."""
    for text in plan(settings, settings.profile).texts:
        path = REPO_PROMPTS / text.language / f"{text.name}.txt"
        assert path.read_text(encoding="utf-8") == text.text + "\n", path


def test_the_configured_profile_is_composed_and_a_placeholder_one_is_not(settings):
    """The [profile] table is what announcements say; without one nothing is composed."""
    assert profile_of(settings) == settings.profile
    assert profile_of(dataclasses.replace(settings, profile=PLACEHOLDER_PROFILE)) is None


def test_routes_that_would_say_different_things_under_one_name_are_refused(settings):
    """Two routes playing "announcement" in Polish for other purposes cannot share one file:
    the error names both."""
    training = Route(
        languages=("pl",),
        prompt="announcement",
        retention="days-7",
        on_decline=settings.default_route.on_decline,
        processing=Processing(purposes=(Purpose.TRAINING,)),
    )
    clash = dataclasses.replace(settings, routes={**settings.routes, "5559000": training})
    with pytest.raises(PromptError, match=r"number 5551000 and number 5559000"):
        plan(clash, EXAMPLE_PROFILE)

    own = dataclasses.replace(training, prompt="training-announcement")
    separate = dataclasses.replace(settings, routes={**settings.routes, "5559000": own})
    [text] = [t for t in plan(separate, EXAMPLE_PROFILE).texts if t.routes == ("number 5559000",)]
    assert text.name == "training-announcement"
    assert text.text == announcement_text(EXAMPLE_PROFILE, own.processing, "pl", "9")


def test_a_language_without_wording_is_kept_as_written(settings):
    """A German route's text is not composed, and the plan says it is kept as written."""
    german = dataclasses.replace(settings.default_route, languages=("de", "en"))
    composed = plan(dataclasses.replace(settings, default_route=german), EXAMPLE_PROFILE)
    assert composed.as_written == (("de", "announcement"),)
    assert all(t.language != "de" for t in composed.texts)


def test_only_changed_texts_are_written(settings, tmp_path: Path):
    """A second write changes nothing; a hand-edited text is composed again."""
    texts = plan(settings, EXAMPLE_PROFILE).texts
    assert len(write_texts(tmp_path, texts)) == len(texts)
    assert write_texts(tmp_path, texts) == []
    edited = tmp_path / "pl" / "announcement.txt"
    edited.write_text("Nagrywamy.\n", encoding="utf-8")
    assert write_texts(tmp_path, texts) == [edited]


def test_a_route_playing_the_decline_hint_as_announcement_is_not_composed(settings):
    """A quick test line whose announcement is the decline hint keeps the hint's text."""
    quick = dataclasses.replace(settings.default_route, prompt="decline-hint")
    line = dataclasses.replace(settings, routes={**settings.routes, "5550000": quick})
    composed = plan(line, EXAMPLE_PROFILE)
    assert ("en", "decline-hint") in composed.as_written
    [hint] = [t for t in composed.texts if (t.language, t.name) == ("en", "decline-hint")]
    assert hint.text == "To refuse, press {key}."


def test_the_outbound_announcement_is_written_per_language(settings, tmp_path: Path):
    """An enabled outbound route in Polish and Swedish gets outbound-announcement.txt in
    both, asking for its agree key (a route that hangs up says so); a language without
    wording is left as written; while outbound is off nothing is composed for it."""
    assert not any(
        t.name == "outbound-announcement" for t in plan(settings, settings.profile).texts
    )
    route = OutboundRoute(prefixes=("0046",), languages=("pl", "sv", "de"), retention="months-6")
    outbound = dataclasses.replace(settings.outbound, enabled=True, routes=(route,))
    composed = plan(dataclasses.replace(settings, outbound=outbound), settings.profile)
    texts = [t for t in composed.texts if t.name == "outbound-announcement"]
    assert [(t.language, t.routes) for t in texts] == [
        ("pl", ("outbound route 0",)),
        ("sv", ("outbound route 0",)),
    ]
    assert ("de", "outbound-announcement") in composed.as_written
    write_texts(tmp_path, texts)
    swedish = (tmp_path / "sv" / "outbound-announcement.txt").read_text(encoding="utf-8")
    assert swedish.startswith("Det här är Aurora Services.")
    assert "Tryck 1 om du godkänner; annars spelas samtalet inte in." in swedish
    ending = dataclasses.replace(route, on_no_consent=NoConsentAction.HANGUP)
    outbound = dataclasses.replace(outbound, routes=(ending,))
    composed = plan(dataclasses.replace(settings, outbound=outbound), settings.profile)
    [swedish_text] = [
        t.text for t in composed.texts if (t.language, t.name) == ("sv", "outbound-announcement")
    ]
    assert "annars avslutas samtalet" in swedish_text
