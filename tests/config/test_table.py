"""Table: each value checked on the way in, and the error names the full key."""

from __future__ import annotations

import re

import pytest

from callrec_ari.config import DeclineAction
from callrec_ari.config.table import Table
from callrec_ari.errors import ConfigError

ROOT = Table({"web": {"port": 8443, "ratio": 2, "flag": True, "mode": "hangup"}}, "")


def test_a_nested_key_is_named_in_full():
    """An error deep in the file says which table it is in."""
    web = ROOT.table("web")
    with pytest.raises(ConfigError, match=re.escape("Config key web.host is missing.")):
        web.get("host", str)


def test_a_boolean_is_not_taken_for_a_number():
    """TOML's true would pass Python's isinstance(True, int); a config file means otherwise."""
    with pytest.raises(ConfigError, match=re.escape("web.flag must be a int")):
        ROOT.table("web").get("flag", int)


def test_an_integer_is_accepted_where_a_float_is_wanted():
    """``ratio = 2`` is as good as ``ratio = 2.0``."""
    assert ROOT.table("web").positive("ratio", 1.0) == 2.0


def test_a_choice_lists_what_is_allowed():
    """A value outside an enum is refused with the values it could have been."""
    web = Table({"mode": "drop"}, "consent")
    with pytest.raises(ConfigError, match="must be one of connect, hangup"):
        web.choice("mode", DeclineAction, "connect")
    assert ROOT.table("web").choice("mode", DeclineAction, "connect") is DeclineAction.HANGUP


def test_a_missing_optional_table_is_empty_and_a_scalar_is_not_a_table():
    """Optional tables fall back to defaults; a value where a table belongs is an error."""
    assert ROOT.table("log", required=False).get("format", str, "auto") == "auto"
    with pytest.raises(ConfigError, match=re.escape("[web.port] must be a table")):
        ROOT.table("web").table("port")
