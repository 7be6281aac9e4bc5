"""Every ``callrec`` subcommand against the usual failures: one sentence, never a traceback.

The table below names one valid command line per subcommand; a test checks that it covers
every subcommand the parser knows, so a new command cannot skip these checks.
"""

from __future__ import annotations

import argparse
import io
import socket
import sqlite3
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import tomli_w

from callrec_ari import __main__ as entry
from callrec_ari.__main__ import main
from callrec_ari.calls import commands as call_commands
from callrec_ari.db.migrate import upgrade_to_head

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"
NUMBER = "48221234567"

# One valid invocation per subcommand ({out} is a fresh folder). -c is added by the tests.
COMMANDS: dict[str, list[str]] = {
    "run": ["run"],
    "web": ["web"],
    "migrate": ["migrate"],
    "health": ["health"],
    "calls": ["calls"],
    "evidence": ["evidence", "1795514341.6"],
    "prompts": ["prompts", "install"],
    "purge": ["purge", "--no-progress"],
    "retention report": ["retention", "report"],
    "orphans": ["orphans"],
    "hold place": [
        "hold", "place", "--case", "C-1", "--reason", "a court order", "--call", "1.1",
    ],
    "hold release": ["hold", "release", "1", "--reason", "the case is closed"],
    "hold list": ["hold", "list"],
    "find": ["find", NUMBER],
    "export": ["export", NUMBER, "--out", "{out}"],
    "erase": ["erase", NUMBER, "--reason", "the caller asked"],
    "rectify": [
        "rectify", "1.1", "--field", "agent", "--value", "agent101", "--reason", "wrong agent",
    ],
    "history": ["history", "1.1"],
    "restrict": ["restrict", "1.1", "--reason", "the caller disputes it"],
    "unrestrict": ["unrestrict", "1.1", "--reason", "dispute settled"],
    "dnr add": ["dnr", "add", NUMBER, "--reason", "the caller asked"],
    "dnr remove": ["dnr", "remove", NUMBER],
    "dnr list": ["dnr", "list"],
    "requests new": [
        "requests", "new", "--kind", "access", "--number", NUMBER, "--requester", "the caller",
    ],
    "requests list": ["requests", "list"],
    "requests show": ["requests", "show", "1"],
    "requests extend": ["requests", "extend", "1", "--reason", "many recordings to review"],
    "requests close": ["requests", "close", "1", "--note", "answered by letter"],
    "users approve": ["users", "approve", "1"],
    "users create": ["users", "create", "anna", "--role", "admin", "--password-stdin"],
    "users grants": ["users", "grants"],
    "users list": ["users", "list"],
    "users refuse": ["users", "refuse", "1"],
    "users roles": ["users", "roles", "anna", "--role", "dpo"],
    "users password": ["users", "password", "anna", "--password-stdin"],
    "users reset-totp": ["users", "reset-totp", "anna"],
    "users unlock": ["users", "unlock", "anna"],
    "users disable": ["users", "disable", "anna"],
    "users enable": ["users", "enable", "anna"],
    "audit verify": ["audit", "verify"],
    "audit witness": ["audit", "witness"],
    "audit show": ["audit", "show"],
    "audit export": ["audit", "export", "--out", "{out}/audit.jsonl"],
    "notice": ["notice", "--lang", "pl"],
    "training make": ["training", "make", "1.1", "--topic", "a calm answer", "--as", "jan"],
    "training list": ["training", "list"],
    "training delete": ["training", "delete", "0123456789abcdef", "--as", "jan"],
    "keys new": ["keys", "new", "--out", "{out}/master.key"],
    "keys status": ["keys", "status"],
    "keys rotate": ["keys", "rotate"],
    "storage check": ["storage", "check"],
    "storage backfill": ["storage", "backfill", "--wait", "1"],
    "sandbox build": ["sandbox", "build"],
    "sandbox up": ["sandbox", "up"],
    "sandbox call": ["sandbox", "call", "5551000"],
    "demo": ["demo"],
}  # fmt: skip
NO_CONFIG = {"sandbox build", "keys new"}  # build a root file system, a key: no configuration
SANDBOX = {"sandbox build", "sandbox up", "sandbox call", "demo"}
SERVERS = {"run", "web"}  # they keep running on a database that is down: fail-open
NO_DATABASE = {"prompts", "health", "storage check"}  # they never open the database
DATABASE_COMMANDS = sorted(set(COMMANDS) - SANDBOX - SERVERS - NO_CONFIG - NO_DATABASE)


def subcommands(parser: argparse.ArgumentParser, prefix: str = "") -> Iterator[str]:
    """Every leaf subcommand of ``parser``, as words joined by spaces."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not actions:
        yield prefix.strip()
        return
    for name, child in actions[0].choices.items():
        yield from subcommands(child, f"{prefix} {name}")


def test_the_table_covers_every_subcommand():
    """A new subcommand must be added to the table, and so to these failure checks."""
    parser = entry._parser(lambda: datetime.now(UTC))
    assert sorted(subcommands(parser)) == sorted(COMMANDS)


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch, tmp_path):
    """No sandbox of the machine's, no password prompt, no config from the environment."""
    monkeypatch.setenv("CALLREC_SANDBOX_CACHE", str(tmp_path / "sandbox-cache"))
    monkeypatch.delenv("CALLREC_CONFIG", raising=False)
    monkeypatch.delenv("CALLREC_DATABASE_URL", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough passphrase\n"))


def config_with(tmp_path: Path, url: str, **tables: dict[str, object]) -> Path:
    """The example config on database ``url``, with files kept in ``tmp_path``."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["database"].update(url=url, journal_dir=str(tmp_path / "journal"))
    data["prompts"].update(
        source_dir=str(EXAMPLE.parent / "prompts"), sounds_dir=str(tmp_path / "sounds")
    )
    data["web"].update(secret_key_file=str(tmp_path / "web.key"))
    for table, values in tables.items():
        data.setdefault(table, {}).update(values)
    path = tmp_path / "callrec.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def run(name: str, config: Path, tmp_path: Path, capsys) -> tuple[int, str]:
    """Run one subcommand of the table; its exit status and what it wrote to stderr."""
    out = tmp_path / "out"
    argv = [part.replace("{out}", str(out)) for part in COMMANDS[name]]
    status = main(argv if name in NO_CONFIG else [*argv, "-c", str(config)])
    return status, capsys.readouterr().err


def assert_one_sentence(status: int, err: str) -> None:
    """A non-zero status and one line on stderr: no traceback, not the catch-all for bugs."""
    assert status != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("callrec: "), err
    assert "Traceback" not in err
    assert "unexpected error" not in err, err


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - NO_CONFIG))
def test_a_missing_config_file_is_one_sentence(name, tmp_path, capsys):
    """``-c`` naming a file that is not there."""
    status, err = run(name, tmp_path / "nowhere.toml", tmp_path, capsys)
    assert_one_sentence(status, err)
    assert "nowhere.toml" in err or "No sandbox is running" in err


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("name", DATABASE_COMMANDS)
def test_an_unreachable_database_is_one_sentence(name, tmp_path, capsys):
    """PostgreSQL not answering: the command names the database problem."""
    url = f"postgresql+asyncpg://callrec@127.0.0.1:{closed_port()}/callrec"
    status, err = run(name, config_with(tmp_path, url), tmp_path, capsys)
    assert_one_sentence(status, err)
    assert "database" in err.lower()


@pytest.mark.parametrize("name", [*DATABASE_COMMANDS, *sorted(SERVERS)])
def test_an_unmigrated_database_is_one_sentence(name, tmp_path, capsys):
    """An empty SQLite file: the command says to migrate (``migrate`` itself succeeds)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
    status, err = run(name, config_with(tmp_path, url), tmp_path, capsys)
    if name == "migrate":
        assert status == 0
        return
    assert_one_sentence(status, err)


@pytest.mark.parametrize("name", ["purge", "erase", "users create"])
def test_a_locked_database_is_one_sentence(name, tmp_path, capsys):
    """Another program holds SQLite's write lock past the busy timeout."""
    database = tmp_path / "callrec.sqlite3"
    url = f"sqlite+aiosqlite:///{database}"
    upgrade_to_head(url)
    config = config_with(tmp_path, url)
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        holder.execute("PRAGMA journal_mode=DELETE")  # an exclusive lock also stops readers
        holder.execute("BEGIN EXCLUSIVE")
        status, err = run(name, config, tmp_path, capsys)
    finally:
        holder.close()
    assert_one_sentence(status, err)
    assert "database" in err.lower()


@pytest.mark.parametrize("name", sorted(SERVERS))
def test_a_port_in_use_is_one_sentence(name, tmp_path, capsys):
    """The service or web port is taken by another program: named, with its config table."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'callrec.sqlite3'}"
    upgrade_to_head(url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = config_with(tmp_path, url, service={"port": port}, web={"port": port})
        status, err = run(name, config, tmp_path, capsys)
    assert_one_sentence(status, err)
    assert f"127.0.0.1:{port}" in err
    assert "[service]" in err or "[web]" in err


@pytest.mark.parametrize("name", ["sandbox build", "sandbox up", "demo"])
def test_the_sandbox_without_root_is_one_sentence(name, tmp_path, capsys, monkeypatch):
    """chroot, mount and mmdebstrap need root: said before anything is built or started."""
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    config = config_with(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'callrec.sqlite3'}")
    status, err = run(name, config, tmp_path, capsys)
    assert_one_sentence(status, err)
    assert "needs root" in err
    assert not (tmp_path / "sandbox-cache").exists() or not any(
        (tmp_path / "sandbox-cache").glob("asterisk-rootfs-*")
    )


def test_a_call_without_a_running_sandbox_is_one_sentence(tmp_path, capsys):
    """``sandbox call`` says how to start the sandbox instead of failing in sipp."""
    config = config_with(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'callrec.sqlite3'}")
    status, err = run("sandbox call", config, tmp_path, capsys)
    assert_one_sentence(status, err)
    assert "No sandbox is running" in err


def test_an_unexpected_error_is_one_sentence_and_a_report(tmp_path, capsys, monkeypatch):
    """A bug still shows one sentence; the traceback goes to a file named in it."""

    def broken(_cli, _args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(call_commands, "_calls", broken)
    status = main(["calls", "-c", str(tmp_path / "x.toml")])
    err = capsys.readouterr().err
    assert status == 70
    assert len(err.strip().splitlines()) == 1
    report = Path(err.strip().rsplit(" ", 1)[1].rstrip("."))
    assert "ZeroDivisionError" in report.read_text(encoding="utf-8")
    report.unlink()


@pytest.mark.parametrize(
    ("uniqueid", "message"),
    [
        ("1795514341.6", "Call '1795514341.6' does not exist."),
        ("not-a-call", "Call id 'not-a-call' is not an Asterisk uniqueid such as 1795514341.6."),
    ],
)
def test_evidence_of_an_unknown_or_invalid_call_is_one_sentence(
    uniqueid, message, tmp_path, capsys
):
    """``callrec evidence`` names the id at fault, on a migrated database without that call."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'callrec.sqlite3'}"
    upgrade_to_head(url)
    status = main(["evidence", uniqueid, "-c", str(config_with(tmp_path, url))])
    err = capsys.readouterr().err
    assert_one_sentence(status, err)
    assert message in err
