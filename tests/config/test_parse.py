"""The configuration: one typed object from TOML, and one clear sentence for every bad key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from callrec_ari.config import DeclineAction, load, parse
from callrec_ari.config.parse import with_absolute_paths
from callrec_ari.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def example() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def test_the_example_config_loads():
    """config.example.toml is valid and maps each DID to its route."""
    settings = load(EXAMPLE, {})
    assert settings.route_for("5552000").languages == ("fi", "sv")
    assert settings.route_for("5554000").on_decline == DeclineAction.HANGUP
    assert settings.route_for("unknown").languages == ("en",)
    assert settings.consent.decline_key == "9"
    assert settings.retention["days-7"].days == 7


def test_relative_paths_are_taken_from_the_config_folder(tmp_path: Path):
    """A relative SQLite file or prompts folder is beside the config file, wherever it is run."""
    config = tmp_path / "etc" / "callrec.toml"
    config.parent.mkdir()
    config.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    settings = load(config, {})
    assert settings.database.url == f"sqlite+aiosqlite:///{tmp_path / 'etc' / 'var' / 'callrec.db'}"
    assert settings.prompts.source_dir == tmp_path / "etc" / "prompts"
    assert settings.web.secret_key_file == tmp_path / "etc" / "var" / "web-secret.key"


def test_a_config_made_absolute_means_the_same_wherever_it_is_written(tmp_path: Path):
    """The sandbox writes its effective config into var/: every path must still point where
    the original config's did, defaults and the SQLite file included."""
    data = example()
    data["web"]["tls_certificate"] = "tls/cert.pem"
    data["web"]["tls_key"] = "/etc/callrec/key.pem"
    data["dialplan"]["register_file"] = "var/register.log"
    del data["database"]["journal_dir"]  # a default, relative too
    original = parse(data, {}, base_dir=tmp_path)
    moved = parse(with_absolute_paths(data, tmp_path), {}, base_dir=tmp_path / "var" / "elsewhere")
    assert moved == original
    assert moved.web.tls_key == Path("/etc/callrec/key.pem")
    assert data["database"].get("journal_dir") is None  # the input is not changed


def test_the_web_app_has_safe_defaults_without_its_table():
    """No [web] table: loopback only, plain HTTP, 15 minutes idle, five tries."""
    data = example()
    del data["web"]
    web = parse(data, {}, base_dir=Path("/etc/callrec")).web
    assert (web.host, web.tls_certificate, web.session_idle_minutes) == ("127.0.0.1", None, 15)
    assert web.lockout_after == 5


def test_secrets_come_from_the_environment_and_stay_out_of_repr():
    """CALLREC_ARI_PASSWORD overrides the file, and no secret is ever printed."""
    settings = load(
        EXAMPLE,
        {
            "CALLREC_ARI_PASSWORD": "s3cret",
            "CALLREC_DATABASE_URL": "postgresql+asyncpg://u:pw@db/x",
        },
    )
    assert settings.ari.password == "s3cret"
    assert settings.database.url.endswith("@db/x")
    assert "s3cret" not in repr(settings)
    assert "pw@db" not in repr(settings)


def test_a_missing_file_names_the_file(tmp_path: Path):
    """A config path that does not exist is one clear sentence."""
    with pytest.raises(ConfigError, match=r"does not exist"):
        load(tmp_path / "nope.toml", {})


def test_invalid_toml_is_reported(tmp_path: Path):
    """A file that is not TOML says so, with the parser's position."""
    bad = tmp_path / "bad.toml"
    bad.write_text("[ari\nurl = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"is not valid TOML"):
        load(bad, {})


def _without(data: dict[str, Any], table: str, key: str) -> dict[str, Any]:
    del data[table][key]
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: _without(d, "ari", "url"), r"Config key ari\.url is missing"),
        (lambda d: d["ari"].update(url="ftp://x"), r"ari\.url must start with http"),
        (lambda d: d["ari"].update(password=""), r"ari\.password is missing"),
        (lambda d: d["ari"].update(heartbeat_seconds=-1), r"heartbeat_seconds must be greater"),
        (lambda d: d["ari"].update(reconnect_max_seconds=0.01), r"reconnect_max_seconds"),
        (lambda d: d["ari"].update(app="bad app!"), r"ari\.app has an invalid value"),
        (
            lambda d: d["recording"].update(asterisk_dir="rel/dir"),
            r"asterisk_dir must be an",
        ),
        (lambda d: d["database"].update(url="mysql://x"), r"database\.url must start with"),
        (lambda d: d["consent"].update(decline_key="99"), r"decline_key must be one DTMF key"),
        (lambda d: d["consent"].update(on_decline="shout"), r"on_decline must be one of"),
        (lambda d: d["default_route"].update(retention="forever"), r"unknown retention policy"),
        (lambda d: d["default_route"].update(languages=[]), r"languages must be a non-empty"),
        (lambda d: d["default_route"].update(languages=["../x"]), r"invalid language"),
        (lambda d: d["default_route"].update(prompt="../../etc/x"), r"prompt has an invalid"),
        (lambda d: d["route"][0].update(dids=d["route"][1]["dids"]), r"repeats the number"),
        (lambda d: d["retention"]["policies"]["days-7"].update(days=0), r"days must be at least 1"),
        (lambda d: d["service"].update(port=70000), r"service\.port must be a TCP port"),
        (lambda d: d["log"].update(level="chatty"), r"log\.level must be"),
        (lambda d: d.update(route={"dids": []}), r"route must be an array of tables"),
        (lambda d: d["ari"].update(username=5), r"ari\.username must be a str"),
        (lambda d: d["web"].update(port=-1), r"web\.port must be a TCP port"),
        (lambda d: d["web"].update(tls_key="key.pem"), r"tls_certificate and web\.tls_key go"),
        (lambda d: d["web"].update(lockout_after=0), r"web\.lockout_after must be at least 1"),
        (lambda d: d["web"].update(language="../en"), r"web\.language has an invalid value"),
    ],
)
def test_each_bad_key_is_named(change: Any, message: str):
    """Every invalid setting stops start-up with a sentence naming the key."""
    data = example()
    change(data)
    with pytest.raises(ConfigError, match=message):
        parse(data, {}, base_dir=Path("/etc/callrec"))


def test_the_node_is_named_in_the_config_or_is_the_machines_short_name():
    """``[service] node`` names the PBX node; without it, the host's first label does."""
    data = example()
    assert (
        parse(data, {}, base_dir=Path("/etc/callrec"), host_name="pbx-a.example.org").service.node
        == "pbx-a"
    )
    assert parse(data, {}, base_dir=Path("/etc/callrec")).service.node is None
    data.setdefault("service", {})["node"] = "node-2"
    assert (
        parse(data, {}, base_dir=Path("/etc/callrec"), host_name="pbx-a").service.node == "node-2"
    )


def test_a_node_name_with_a_space_is_refused():
    """A node name is letters, digits, dots, underscores and hyphens."""
    data = example()
    data.setdefault("service", {})["node"] = "pbx a"
    with pytest.raises(ConfigError, match=r"service\.node must be a node name"):
        parse(data, {}, base_dir=Path("/etc/callrec"))
