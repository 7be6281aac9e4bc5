"""Outbound consent settings: off by default, routes by the longest prefix, bad keys named."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from callrec_ari.config import load, parse
from callrec_ari.config.outbound import NoConsentAction
from callrec_ari.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def example(**outbound: Any) -> dict[str, Any]:
    """The example config with ``[outbound]`` enabled and a Romanian and a catch-all route."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["outbound"] = {"enabled": True}
    data["outbound_route"] = [
        {"prefixes": ["0040", "+40"], "languages": ["ro"], "retention": "months-6", **outbound},
        {"prefixes": [""], "languages": ["en"], "retention": "days-7"},
    ]
    return data


def test_the_example_config_never_records_outbound_calls():
    """As shipped (seed 000), outbound consent is off and no number has a route."""
    settings = load(EXAMPLE, {})
    assert settings.outbound.enabled is False
    assert settings.outbound.route_for("0040211234567") is None


def test_without_the_table_outbound_calls_are_not_recorded(tmp_path: Path):
    """A config written before outbound routes existed parses, with outbound off."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    del data["outbound"]
    settings = parse(data, {}, base_dir=tmp_path)
    assert settings.outbound.route_for("0040211234567") is None


def test_the_longest_prefix_chooses_the_route(tmp_path: Path):
    """A Romanian number gets the Romanian route; any other number the catch-all."""
    outbound = parse(example(), {}, base_dir=tmp_path).outbound
    romanian = outbound.route_for("0040211234567")
    assert romanian is not None
    assert romanian.languages == ("ro",)
    assert romanian.agree_key == "1"
    assert romanian.timeout_seconds == 10.0
    assert romanian.on_no_consent == NoConsentAction.CONNECT
    assert romanian.prompt == "outbound-announcement"
    other = outbound.route_for("0048221234567")
    assert other is not None
    assert other.languages == ("en",)
    assert other.retention == "days-7"


def test_routes_stay_unused_while_outbound_is_disabled(tmp_path: Path):
    """Routes may be prepared ahead; nothing is recorded until enabled = true."""
    data = example()
    data["outbound"]["enabled"] = False
    assert parse(data, {}, base_dir=tmp_path).outbound.route_for("0040211234567") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"agree_key": "12"}, "outbound_route[0].agree_key must be one DTMF key"),
        ({"timeout_seconds": 0}, "outbound_route[0].timeout_seconds must be greater than zero"),
        ({"on_no_consent": "record"}, "outbound_route[0].on_no_consent must be one of"),
        ({"retention": "forever"}, "unknown retention policy 'forever'"),
        ({"languages": []}, "outbound_route[0].languages must be a non-empty list"),
        ({"prefixes": ["00,40"]}, "outbound_route[0].prefixes has an invalid prefix"),
        ({"prefixes": [""]}, "outbound_route[1].prefixes repeats the prefix ''"),
    ],
)
def test_each_bad_outbound_key_is_named(change: dict[str, Any], message: str, tmp_path: Path):
    """A wrong value stops start-up with one sentence naming the key."""
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse(example(**change), {}, base_dir=tmp_path)


def test_enabled_without_a_route_is_refused(tmp_path: Path):
    """Turning outbound consent on with no route would silently record nothing: refused."""
    data = example()
    del data["outbound_route"]
    with pytest.raises(ConfigError, match="no \\[\\[outbound_route\\]\\]"):
        parse(data, {}, base_dir=tmp_path)


def test_an_agree_key_that_is_also_the_withdrawal_key_is_refused(tmp_path: Path):
    """Agree with 9 where 9 withdraws in the conversation: a second press would undo consent."""
    with pytest.raises(
        ConfigError,
        match=r"outbound_route\[0\]\.agree_key must differ from consent\.decline_key \('9'\)",
    ):
        parse(example(agree_key="9"), {}, base_dir=tmp_path)


def test_without_a_decline_key_any_agree_key_is_allowed(tmp_path: Path):
    """With no withdrawal key configured nothing can clash, so 9 may agree."""
    data = example(agree_key="9")
    data["consent"]["decline_key"] = ""
    route = parse(data, {}, base_dir=tmp_path).outbound.route_for("0040211234567")
    assert route is not None
    assert route.agree_key == "9"
