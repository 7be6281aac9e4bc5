"""[ha] settings: off without peers, a peer may never be this instance, the lease bounded."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from callrec_ari.config import load, parse
from callrec_ari.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def with_ha(tmp_path: Path, app: str = "callrec-a", **ha: Any):
    """The example config as instance ``app`` with ``[ha]`` set to ``ha``."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["ari"]["app"] = app
    data["ha"] = ha
    return parse(data, {}, base_dir=tmp_path)


def test_the_example_config_is_one_instance():
    """As shipped, no peers: one instance, no leases, no take-over."""
    settings = load(EXAMPLE, {})
    assert settings.ha.enabled is False
    assert settings.ha.peers == ()


def test_peers_and_lease_are_read(tmp_path: Path):
    """Two peers and a two-second lease; the lease is renewed four times per lease."""
    settings = with_ha(tmp_path, peers=["callrec-b", "callrec-c"], lease_seconds=2)
    assert settings.ha.enabled is True
    assert settings.ha.peers == ("callrec-b", "callrec-c")
    assert settings.ha.renew_seconds == 0.5


@pytest.mark.parametrize(
    ("ha", "message"),
    [
        ({"peers": ["callrec-a"]}, "own application 'callrec-a'"),
        ({"peers": ["callrec-b", "callrec-b"]}, "names 'callrec-b' twice"),
        ({"peers": ["bad name"]}, "invalid name 'bad name'"),
        ({"peers": "callrec-b"}, "must be a list"),
        ({"peers": ["callrec-b"], "lease_seconds": 0.5}, "at least 1 second"),
    ],
)
def test_a_wrong_ha_table_is_one_sentence_naming_the_key(tmp_path: Path, ha, message):
    """Each mistake names ha.peers or ha.lease_seconds and what is wrong with it."""
    with pytest.raises(ConfigError, match=message) as caught:
        with_ha(tmp_path, **ha)
    assert "ha." in str(caught.value)
