"""Applying the admin's routes and policies over the config file's: pure rules."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from callrec_ari.config import DeclineAction, RetentionPolicy
from callrec_ari.errors import InputError
from callrec_ari.routing.overrides import apply, policy, route_change
from tests.flow.conftest import example_settings


@pytest.fixture
def settings(tmp_path: Path):
    return example_settings(tmp_path)


def test_no_changes_leave_the_config_as_it_is(settings):
    """Nothing stored: the config file's routes and policies, unchanged."""
    assert apply(settings, [], []) == settings


def test_a_policy_s_days_and_a_new_policy(settings):
    """Changed days replace the config's; a new name is added."""
    result = apply(settings, [policy("days-7", 14), policy("year", 365)], [])
    assert result.retention["days-7"].days == 14
    assert result.retention["year"] == RetentionPolicy(name="year", days=365)
    assert result.retention["months-6"] == settings.retention["months-6"]


def test_a_route_replaces_one_number_and_star_the_default(settings):
    """5552000 now plays Romanian; every other number English then Polish."""
    changes = [
        route_change(
            "5552000",
            languages=["ro"],
            prompt="announcement",
            retention="days-7",
            on_decline="hangup",
        ),
        route_change(
            "*",
            languages=["en", "pl"],
            prompt="announcement",
            retention="months-6",
            on_decline="connect",
        ),
    ]
    result = apply(settings, [], changes)
    assert result.route_for("5552000").languages == ("ro",)
    assert result.route_for("5552000").on_decline is DeclineAction.HANGUP
    assert result.route_for("5550000").languages == ("en", "pl")
    assert result.route_for("5553000") == settings.route_for("5553000")


def test_a_route_naming_no_policy_is_refused(settings):
    """A route must name a policy that exists, in the config or added here."""
    change = route_change(
        "5552000",
        languages=["ro"],
        prompt="announcement",
        retention="forever",
        on_decline="connect",
    )
    with pytest.raises(InputError, match=r"unknown retention policy 'forever'"):
        apply(settings, [], [change])
    assert apply(settings, [policy("forever", 3650)], [change]).route_for("5552000")


@pytest.mark.parametrize(
    ("did", "languages", "prompt", "on_decline", "message"),
    [
        ("55 52", ["ro"], "announcement", "connect", "not a number"),
        ("5552000", [], "announcement", "connect", "at least one language"),
        ("5552000", ["../en"], "announcement", "connect", "not a language code"),
        ("5552000", ["ro"], "../../etc/passwd", "connect", "prompt name"),
        ("5552000", ["ro"], "announcement", "shout", "On decline must be"),
    ],
)
def test_bad_routes_are_one_sentence(did, languages, prompt, on_decline, message):
    """Whatever is typed into the form, a bad field is named and nothing is built."""
    with pytest.raises(InputError, match=message):
        route_change(
            did, languages=languages, prompt=prompt, retention="days-7", on_decline=on_decline
        )


@pytest.mark.parametrize(("name", "days"), [("days-7", 0), ("days-7", 40000), ("bad name", 7)])
def test_bad_policies_are_refused(name, days):
    """No policy of zero days, of a century, or with a name that is not a name."""
    with pytest.raises(InputError):
        policy(name, days)


def test_an_edited_route_keeps_the_config_files_agent_tone(settings):
    """The admin's pages do not set the tone for an agent who takes a call over: a route they
    edit keeps the config file's choice, and a new number takes the default route's."""
    quiet = dataclasses.replace(settings.route_for("5552000"), agent_tone=False)
    settings = dataclasses.replace(
        settings,
        routes={**settings.routes, "5552000": quiet},
        default_route=dataclasses.replace(settings.default_route, agent_tone=False),
    )
    edit = {"languages": ["ro"], "prompt": "announcement", "retention": "days-7"}
    changes = [
        route_change("5552000", on_decline="connect", **edit),
        route_change("5557000", on_decline="connect", **edit),
        route_change("*", on_decline="connect", **edit),
    ]
    result = apply(settings, [], changes)
    assert result.route_for("5552000").languages == ("ro",)
    assert not result.route_for("5552000").agent_tone
    assert not result.route_for("5557000").agent_tone
    assert not result.default_route.agent_tone
    assert apply(example_settings_tone(settings), [], changes[:1]).route_for("5552000").agent_tone


def example_settings_tone(settings):
    """The same settings with the tone on for every route."""
    return dataclasses.replace(
        settings,
        routes={d: dataclasses.replace(r, agent_tone=True) for d, r in settings.routes.items()},
        default_route=dataclasses.replace(settings.default_route, agent_tone=True),
    )
