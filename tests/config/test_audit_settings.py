"""The ``[audit]`` table: where the witness key and file live, and how often to witness."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from callrec_ari.__main__ import resolved_paths
from callrec_ari.config import load, parse
from callrec_ari.config.parse import with_absolute_paths
from callrec_ari.errors import ConfigError
from tests.config.test_parse import EXAMPLE, example


def test_the_example_witnesses_every_minute_beside_the_config(tmp_path: Path):
    """The example's key and witness file are taken from the config file's folder."""
    config = tmp_path / "etc" / "callrec.toml"
    config.parent.mkdir()
    config.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    audit = load(config, {}).audit
    assert audit.witness_key_file == tmp_path / "etc" / "var" / "audit-witness.key"
    assert audit.witness_file == tmp_path / "etc" / "var" / "audit-witness.jsonl"
    assert audit.witness_interval_seconds == 60


def test_start_up_and_migrate_name_the_witness_files(tmp_path: Path):
    """The resolved key and witness file are among the paths logged at start (config.paths)."""
    config = tmp_path / "callrec.toml"
    config.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    paths = resolved_paths(load(config, {}))
    assert paths["audit_witness_key"] == str(tmp_path / "var" / "audit-witness.key")
    assert paths["audit_witness_file"] == str(tmp_path / "var" / "audit-witness.jsonl")


def test_without_the_table_the_defaults_apply_and_survive_being_made_absolute(tmp_path: Path):
    """No [audit] table: the same defaults, and the sandbox's absolute copy means the same."""
    data = example()
    del data["audit"]
    original = parse(data, {}, base_dir=tmp_path)
    moved = parse(with_absolute_paths(data, tmp_path), {}, base_dir=tmp_path / "elsewhere")
    assert moved.audit == original.audit
    assert original.audit.witness_key_file == tmp_path / "var" / "audit-witness.key"
    assert original.audit.witness_interval_seconds == 60


def test_zero_turns_the_services_witnessing_off():
    """An interval of 0 is allowed: witnessing left to cron and ``callrec audit witness``."""
    data = example()
    data["audit"]["witness_interval_seconds"] = 0
    assert parse(data, {}, base_dir=Path("/etc/callrec")).audit.witness_interval_seconds == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"witness_interval_seconds": -1},
            r"^Config key audit\.witness_interval_seconds must be zero \(off\) or more\.$",
        ),
        ({"witness_interval_seconds": "often"}, r"witness_interval_seconds must be a float"),
        ({"witness_file": 7}, r"audit\.witness_file must be a str"),
        (
            {"witness_file": "var/audit-witness.key"},
            r"audit\.witness_key_file and audit\.witness_file must name two different files",
        ),
    ],
)
def test_each_bad_audit_key_is_named(change: dict[str, Any], message: str):
    """A bad [audit] key stops start-up with one sentence naming it."""
    data = example()
    data["audit"].update(change)
    with pytest.raises(ConfigError, match=message):
        parse(data, {}, base_dir=Path("/etc/callrec"))
