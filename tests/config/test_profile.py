"""The [profile] table and each route's processing keys: typed values, one sentence per bad key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from callrec_ari.config import parse
from callrec_ari.errors import ConfigError
from callrec_ari.profile.model import LegalBasis, Purpose

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def example() -> dict[str, Any]:
    """The example config, decoded."""
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def load(data: dict[str, Any], tmp_path: Path):
    """Settings from decoded TOML."""
    return parse(data, {}, base_dir=tmp_path)


def test_the_example_profile_and_routes_processing(tmp_path):
    """The example names its controller, and each route's own purposes and basis apply."""
    settings = load(example(), tmp_path)
    profile = settings.profile
    assert profile.controller_name == "Aurora Services"
    assert profile.notice_url == "https://aurora.example"
    assert not profile.placeholder
    default = settings.processing_for(settings.route_for("unknown"))
    assert default == profile.processing
    assert default.purposes == (Purpose.SERVICE_QUALITY, Purpose.EVIDENCE)
    finnish = settings.processing_for(settings.route_for("5552000"))
    assert finnish.legal_basis == LegalBasis.PUBLIC_TASK
    assert Purpose.STAFF_SAFETY in finnish.purposes
    assert finnish.storage_country == "PL"  # not set on the route: the profile's
    romanian = settings.processing_for(settings.route_for("5554000"))
    assert "processor" in romanian.recipients


def test_policies_in_months_are_read(tmp_path):
    """months = 6 gives a policy in calendar months, with no days."""
    policy = load(example(), tmp_path).retention["months-6"]
    assert (policy.days, policy.months) == (None, 6)


def test_without_a_profile_the_placeholder_is_marked(tmp_path):
    """An old config without [profile] still loads, with a profile marked as not filled in."""
    data = example()
    del data["profile"]
    for route in data["route"]:
        for key in ("purposes", "legal_basis", "recipients"):
            route.pop(key, None)
    settings = load(data, tmp_path)
    assert settings.profile.placeholder
    assert "not filled in" in settings.profile.controller_name


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"controller_name": ""}, "profile.controller_name must not be empty"),
        ({"dpo_contact": None}, "profile.dpo_contact is missing"),
        ({"notice_url": "housing.example.org"}, "profile.notice_url must start with https://"),
        ({"purposes": []}, "profile.purposes must be a non-empty list"),
        ({"purposes": ["marketing"]}, "profile.purposes has an unknown purpose 'marketing'"),
        ({"legal_basis": "whim"}, "profile.legal_basis must be one of consent"),
        ({"storage_country": "Poland"}, "profile.storage_country has an invalid value"),
        ({"storage_country": None}, "profile.storage_country is missing"),
        ({"recipients": 5}, "profile.recipients must be a str"),
    ],
)
def test_a_bad_profile_key_is_named(tmp_path, change, message):
    """Each bad or missing key of [profile] stops start-up with its name."""
    data = example()
    for key, value in change.items():
        if value is None:
            data["profile"].pop(key)
        else:
            data["profile"][key] = value
    with pytest.raises(ConfigError, match=message):
        load(data, tmp_path)


def test_a_bad_route_processing_key_is_named(tmp_path):
    """A route's own purposes are checked like the profile's, naming the route."""
    data = example()
    data["route"][1]["purposes"] = ["gossip"]
    with pytest.raises(ConfigError, match=r"route\[1\]\.purposes has an unknown purpose"):
        load(data, tmp_path)


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({}, r"\[retention.policies.p\] needs days or months"),
        ({"days": 3, "months": 1}, r"\[retention.policies.p\] needs days or months"),
        ({"months": 0}, "retention.policies.p.months must be at least 1"),
        ({"months": "six"}, "retention.policies.p.months must be a int"),
    ],
)
def test_a_bad_policy_is_named(tmp_path, policy, message):
    """A policy needs exactly one of days and months, a whole number of at least 1."""
    data = example()
    data["retention"]["policies"]["p"] = policy
    with pytest.raises(ConfigError, match=message):
        load(data, tmp_path)


def test_processing_keys_in_the_default_route_are_refused(tmp_path):
    """The default route's processing is the profile's: a key there is named, not ignored."""
    data = example()
    data["default_route"]["legal_basis"] = "contract"
    with pytest.raises(ConfigError, match=r"default_route.legal_basis belongs in \[profile\]"):
        load(data, tmp_path)
