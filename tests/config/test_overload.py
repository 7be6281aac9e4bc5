"""``[overload]``: the limits above which new calls are connected unrecorded at once."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from callrec_ari.config import load, parse
from callrec_ari.config.overload import OverloadLimits
from callrec_ari.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def with_overload(**overload: Any) -> dict[str, Any]:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["overload"] = overload
    return data


def test_the_example_sheds_with_the_documented_defaults():
    """The example config's [overload] is the defaults: on, half a second of delay."""
    assert load(EXAMPLE, {}).overload == OverloadLimits()


def test_without_the_table_the_defaults_apply(tmp_path: Path):
    """A config written before [overload] existed gets the defaults."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data.pop("overload", None)
    assert parse(data, {}, base_dir=tmp_path).overload == OverloadLimits()


def test_each_limit_is_read(tmp_path: Path):
    """Every key reaches the limits; 0 turns one off."""
    limits = parse(
        with_overload(
            enabled=True,
            event_delay_seconds=0.3,
            loop_lag_seconds=0,
            ari_latency_seconds=1,
            max_calls_in_consent=500,
            hold_seconds=5,
        ),
        {},
        base_dir=tmp_path,
    ).overload
    assert limits == OverloadLimits(
        event_delay_seconds=0.3,
        loop_lag_seconds=0.0,
        ari_latency_seconds=1.0,
        max_calls_in_consent=500,
        hold_seconds=5.0,
    )


@pytest.mark.parametrize(
    ("overload", "message"),
    [
        ({"event_delay_seconds": -1}, r"overload\.event_delay_seconds must be 0"),
        ({"max_calls_in_consent": -5}, r"overload\.max_calls_in_consent must be 0"),
        ({"enabled": "yes"}, r"overload\.enabled must be a bool"),
        ({"loop_lag_seconds": "fast"}, r"overload\.loop_lag_seconds must be a float"),
    ],
)
def test_each_bad_key_is_named(overload: dict[str, Any], message: str, tmp_path: Path):
    """A negative or mistyped limit is refused with the key's name."""
    with pytest.raises(ConfigError, match=message):
        parse(with_overload(**overload), {}, base_dir=tmp_path)
