"""``callrec audit verify|show|export``: exit codes, output, and the operator in the trail."""

from __future__ import annotations

import asyncio
import csv
import json
import sqlite3
from pathlib import Path

import pytest

from callrec_ari.__main__ import main
from callrec_ari.db.session import open_sessions
from tests.audit.conftest import NOW, add_entries
from tests.test_main import write_config


@pytest.fixture
def config(tmp_path: Path, monkeypatch) -> Path:
    """A migrated SQLite database holding three entries; the operator's login is ``ola``."""
    monkeypatch.setattr("callrec_ari.__main__._actor", lambda: "ola")
    path = write_config(tmp_path)
    assert main(["migrate", "-c", str(path)]) == 0

    async def fill() -> None:
        async with open_sessions(database(path)) as sessions:
            await add_entries(sessions, 3)

    asyncio.run(fill())
    return path


def database(config: Path) -> str:
    return f"sqlite+aiosqlite:///{config.parent / 'db' / 'callrec.sqlite3'}"


def tamper(config: Path, *statements: str) -> None:
    """Drop the triggers and change the trail behind callrec's back."""
    with sqlite3.connect(config.parent / "db" / "callrec.sqlite3") as connection:
        for trigger in ("audit_log_no_update", "audit_log_no_delete"):
            connection.execute(f"DROP TRIGGER {trigger}")
        for statement in statements:
            connection.execute(statement)
    connection.close()


def run(config: Path, capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main([*argv, "-c", str(config)], clock=lambda: NOW)
    out, err = capsys.readouterr()
    return status, out, err


def head_hash(config: Path) -> str:
    with sqlite3.connect(config.parent / "db" / "callrec.sqlite3") as connection:
        (value,) = connection.execute("SELECT hash FROM audit_head").fetchone()
    connection.close()
    return str(value)


def test_verify_prints_the_head_of_an_intact_chain(config, capsys):
    """Exit 0 and one line with the count and the head hash to write down."""
    status, out, _ = run(config, capsys, "audit", "verify")
    assert (status, out) == (0, f"3 entries, chain intact; head {head_hash(config)}\n")


def test_verify_prints_each_problem_and_exits_1(config, capsys):
    """A deleted entry and an edited one are each named, then a summary."""
    tamper(
        config,
        "DELETE FROM audit_log WHERE seq = 1",
        "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3",
    )
    status, out, _ = run(config, capsys, "audit", "verify")
    assert status == 1
    assert out.splitlines() == [
        "Entry 1 is missing: the chain starts at entry 2.",
        "Entry 3 was edited: its hash does not match its contents.",
        f"2 entries checked, 2 problem(s); head {head_hash(config)}",
    ]


def test_show_lists_entries_and_records_the_reading(config, capsys):
    """Newest first, one line each; the operator's reading is the next entry, as cli:ola."""
    status, out, _ = run(config, capsys, "audit", "show", "--limit", "2")
    assert status == 0
    assert out.splitlines() == [
        '     3  2026-11-24 11:00:00Z  anna  hold.place  call-2  192.0.2.7  {"n": 2}',
        '     2  2026-11-24 10:00:00Z  piotr  play  call-1  192.0.2.7  {"n": 1}',
        "(older entries: --before 2)",
    ]
    status, out, _ = run(config, capsys, "audit", "show", "--limit", "1", "--json")
    (entry,) = json.loads(out)
    assert entry["seq"] == 4
    assert (entry["actor"], entry["action"], entry["at"]) == (
        "cli:ola",
        "audit.read",
        "2026-12-01T12:00:00.000000+00:00",
    )
    assert entry["detail"] == {"limit": 2, "entries": 2}


def test_show_filters_by_actor_action_and_time(config, capsys):
    """The options reach the query; a date means midnight UTC."""
    status, out, _ = run(
        config, capsys, "audit", "show", "--actor", "anna", "--since", "2026-11-24T10:30+00:00"
    )
    assert status == 0
    assert [line.split()[0] for line in out.splitlines()] == ["3"]
    status, out, _ = run(
        config, capsys, "audit", "show", "--action", "play", "--until", "2026-11-25"
    )
    assert [line.split()[0] for line in out.splitlines()] == ["2"]


def test_audit_alone_shows_the_newest_entries(config, capsys):
    """Without an action, ``callrec audit`` shows the newest page."""
    status, out, _ = run(config, capsys, "audit")
    assert status == 0
    assert [line.split()[0] for line in out.splitlines()] == ["3", "2", "1"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "yesterday"], "--since 'yesterday' is not an ISO 8601 date or time"),
        (["--until", "2026-11-31"], "--until '2026-11-31' is not an ISO 8601 date or time"),
        (["--limit", "0"], "Limit 0 is out of range"),
    ],
)
def test_show_refuses_bad_options_in_one_line(config, capsys, argv, message):
    """Exit 2 and one ``callrec:`` line; nothing is recorded."""
    before = head_hash(config)
    status, out, err = run(config, capsys, "audit", "show", *argv)
    assert (status, out) == (2, "")
    assert err.startswith(f"callrec: {message}")
    assert head_hash(config) == before


def test_export_writes_a_new_file_and_refuses_to_overwrite(config, capsys, tmp_path):
    """JSON Lines by default; the same file name again is refused and the file kept."""
    target = tmp_path / "audit.jsonl"
    status, out, _ = run(config, capsys, "audit", "export", "--out", str(target))
    assert (status, out) == (0, f"3 entries written to {target}\n")
    written = target.read_text(encoding="utf-8")
    assert [json.loads(line)["seq"] for line in written.splitlines()] == [1, 2, 3]

    status, out, err = run(config, capsys, "audit", "export", "--out", str(target))
    assert status == 2
    assert err == f"callrec: {target} exists already: choose a new file name.\n"
    assert target.read_text(encoding="utf-8") == written

    status, out, _ = run(config, capsys, "audit", "show", "--action", "audit", "--json")
    assert [(e["action"], e["actor"], e["detail"]) for e in json.loads(out)] == [
        ("audit.export", "cli:ola", {"format": "jsonl", "entries": 3})
    ]


def test_export_csv_between_dates(config, capsys, tmp_path):
    """``--format csv`` with a span writes a header and the entries in it."""
    target = tmp_path / "audit.csv"
    status, out, _ = run(
        config,
        capsys,
        "audit",
        "export",
        "--out",
        str(target),
        "--format",
        "csv",
        "--since",
        "2026-11-24T10:00+00:00",
        "--until",
        "2026-11-24T11:00+00:00",
    )
    assert (status, out) == (0, f"1 entries written to {target}\n")
    with target.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [(r["seq"], r["actor"]) for r in rows] == [("2", "piotr")]


def test_a_failed_export_leaves_no_file(config, capsys, tmp_path):
    """A bad option after the file was opened removes it again."""
    target = tmp_path / "audit.jsonl"
    status, _, err = run(
        config,
        capsys,
        "audit",
        "export",
        "--out",
        str(target),
        "--since",
        "2026-11-24",
        "--until",
        "2026-11-23",
    )
    assert status == 2
    assert "is not after since" in err
    assert not target.exists()


def test_export_into_a_missing_folder_is_one_line(config, capsys, tmp_path):
    """A folder that does not exist is named in the error."""
    target = tmp_path / "nowhere" / "audit.jsonl"
    status, _, err = run(config, capsys, "audit", "export", "--out", str(target))
    assert status == 2
    assert err == f"callrec: {target} cannot be created: No such file or directory.\n"


def test_an_unmigrated_database_is_one_clear_error(tmp_path, capsys):
    """No tables yet: verify says to migrate, in one line, instead of a traceback."""
    path = write_config(tmp_path)
    (tmp_path / "db").mkdir()
    assert main(["audit", "verify", "-c", str(path)]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "callrec migrate" in line
