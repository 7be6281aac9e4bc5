"""The rights commands: one transaction each, results printed, errors one `callrec:` line."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from callrec_ari.__main__ import main
from callrec_ari.db.repository import upsert_calls
from callrec_ari.db.session import open_sessions
from tests.rights.conftest import NOW, NUMBER, OTHER, files, recorded, unrecorded
from tests.test_main import write_config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A migrated SQLite database and a recordings folder."""
    (tmp_path / "recordings").mkdir()
    path = write_config(tmp_path, recording={"service_dir": str(tmp_path / "recordings")})
    assert main(["migrate", "-c", str(path)]) == 0
    return path


def store(config: Path, *records) -> None:
    url = f"sqlite+aiosqlite:///{config.parent / 'db' / 'callrec.sqlite3'}"

    async def _store() -> None:
        async with open_sessions(url) as sessions, sessions() as session, session.begin():
            await upsert_calls(session, list(records))

    asyncio.run(_store())


def run(config: Path, capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main([*argv, "-c", str(config)], clock=lambda: NOW)
    out, err = capsys.readouterr()
    return status, out, err


def test_an_erasure_request_from_receipt_to_answer(config, capsys, tmp_path):
    """Open, find, export, erase with do-not-record, see the trail, close."""
    recordings = tmp_path / "recordings"
    store(config, recorded(recordings, "a1"), unrecorded("a2", minutes=1))

    status, out, _ = run(
        config,
        capsys,
        "requests",
        "new",
        "--kind",
        "withdrawal",
        "--number",
        "0048 22 123 45 67",
        "--requester",
        "Jan, by letter",
        "--received",
        "2026-11-28",
    )
    assert status == 0
    assert out == "request 1 opened: withdrawal for +48221234567, due 2026-12-28\n"

    status, out, _ = run(config, capsys, "find", "221234567", "--json")
    found = json.loads(out)
    assert [c["uniqueid"] for c in found["calls"]] == ["a2", "a1"]
    assert [r["id"] for r in found["requests"]] == [1]

    status, _, err = run(
        config, capsys, "export", NUMBER, "--out", str(tmp_path / "pkg"), "--request", "1"
    )
    assert status == 2  # refused: the exit status of every CallrecError
    assert "only an access or portability request lets recordings leave" in err
    assert not (tmp_path / "pkg").exists()

    status, out, _ = run(
        config,
        capsys,
        "erase",
        NUMBER,
        "--request",
        "1",
        "--do-not-record",
        "--reason",
        "consent withdrawn",
        "--actor",
        "anna",
    )
    assert status == 0
    assert "erased 2 call(s), deleted 1 recording(s)" in out
    assert files(recordings) == {}

    status, out, _ = run(config, capsys, "dnr", "list", "--json")
    assert [(e["number"], e["added_by"], e["request_id"]) for e in json.loads(out)] == [
        (NUMBER, "anna", 1)
    ]

    status, out, _ = run(config, capsys, "requests", "close", "1", "--note", "erased, letter sent")
    assert (status, out) == (0, "request 1 closed: done\n")
    status, out, _ = run(config, capsys, "requests", "show", "1", "--json")
    shown = json.loads(out)
    assert [a["action"] for a in shown["actions"]] == [
        "opened",
        "do_not_record_added",
        "erased",
        "done",
    ]
    assert shown["status"] == "done"


def test_the_request_list_puts_overdue_ones_first(config, capsys):
    """Listed by the injected clock: the oldest request is late and comes first."""
    for received in ("2026-11-25", "2026-10-20", "2026-11-01"):
        run(
            config,
            capsys,
            "requests",
            "new",
            "--kind",
            "access",
            "--number",
            NUMBER,
            "--requester",
            f"received {received}",
            "--received",
            received,
        )
    status, out, _ = run(config, capsys, "requests", "list")
    lines = out.splitlines()
    assert status == 0
    assert [line.split()[0] for line in lines] == ["#2", "#3", "#1"]
    assert "OVERDUE" in lines[0]
    assert "OVERDUE" not in lines[1]


def test_config_may_come_before_the_action(config, capsys):
    """`callrec requests -c FILE list` and `callrec dnr -c FILE` work like the other order."""
    capsys.readouterr()
    assert main(["requests", "-c", str(config), "list"], clock=lambda: NOW) == 0
    assert capsys.readouterr().out == "no requests\n"
    assert main(["dnr", "-c", str(config)]) == 0
    assert capsys.readouterr().out == "the do-not-record list is empty\n"


def test_rectify_then_history_shows_the_original(config, capsys):
    """The correction and the original value, with who and why."""
    store(config, unrecorded("c1"))
    status, out, _ = run(
        config,
        capsys,
        "rectify",
        "c1",
        "--field",
        "agent",
        "--value",
        "agent200",
        "--reason",
        "wrong extension logged",
    )
    assert status == 0
    assert "'agent100' -> 'agent200'" in out
    status, out, _ = run(config, capsys, "history", "c1")
    assert "agent = 'agent100'" in out
    assert "wrong extension logged" in out


def test_restrict_and_unrestrict_by_number(config, capsys):
    """A number's calls are restricted, then lifted, and the output names them."""
    store(config, unrecorded("c1"), unrecorded("c2", minutes=1))
    status, out, _ = run(config, capsys, "restrict", "--number", NUMBER, "--reason", "objection")
    assert (status, sorted(out.splitlines())) == (0, ["restricted: c1", "restricted: c2"])
    status, out, _ = run(config, capsys, "unrestrict", "c1", "--reason", "settled")
    assert (status, out) == (0, "lifted: c1\n")


def test_an_export_with_a_damaged_recording_exits_1_and_says_why(config, capsys, tmp_path):
    """The package is written; the missing file is one `callrec:` line on stderr."""
    record = recorded(tmp_path / "recordings", "a1")
    store(config, record)
    (tmp_path / "recordings" / record.recording_path).unlink()
    run(
        config,
        capsys,
        "requests",
        "new",
        "--kind",
        "access",
        "--number",
        NUMBER,
        "--requester",
        "Jan",
    )
    status, _, err = run(
        config,
        capsys,
        "export",
        NUMBER,
        "--out",
        str(tmp_path / "pkg"),
        "--request",
        "1",
        "--agent-consent",
        "agent100",
        "--consent-on",
        "2026-11-30",
        "--consent-how",
        "signed form",
    )
    assert status == 1
    assert err.startswith("callrec: The recording of call a1 was not copied")
    assert "does not exist" in err
    assert (tmp_path / "pkg" / "calls.json").exists()


ERRORS = {
    "bad number": (["find", "hello"], "callrec: Phone number 'hello' is not a phone number"),
    "bad kind": (
        ["requests", "new", "--kind", "gossip", "--number", NUMBER, "--requester", "x"],
        "callrec: Request kind 'gossip' is unknown",
    ),
    "bad date": (
        [
            "requests",
            "new",
            "--kind",
            "access",
            "--number",
            NUMBER,
            "--requester",
            "x",
            "--received",
            "28/11/2026",
        ],
        "callrec: --received '28/11/2026' is not an ISO 8601 date or time",
    ),
    "empty requester": (
        ["requests", "new", "--kind", "access", "--number", NUMBER, "--requester", ""],
        "callrec: The requester is empty.",
    ),
    "unknown request": (["requests", "show", "9"], "callrec: Request 9 does not exist."),
    "both targets": (
        ["restrict", "c1", "--number", OTHER, "--reason", "x"],
        "callrec: Name either one call",
    ),
    "neither target": (["restrict", "--reason", "x"], "callrec: Name either one call"),
    "unknown call": (["history", "zz"], "callrec: Call 'zz' does not exist."),
    "not on the list": (["dnr", "remove", NUMBER], "callrec: Number +48221234567 is not on"),
}


@pytest.mark.parametrize("case", ERRORS.values(), ids=ERRORS.keys())
def test_errors_are_one_line_and_exit_2(config, capsys, case):
    """Each bad input gives exactly one `callrec:` line and status 2."""
    argv, message = case
    status, out, err = run(config, capsys, *argv)
    assert status == 2
    assert out == ""
    assert err.startswith(message)
    assert len(err.strip().splitlines()) == 1


def test_extending_twice_is_refused(config, capsys):
    """The second extension is an error; the deadline stays at the first extension's."""
    run(
        config,
        capsys,
        "requests",
        "new",
        "--kind",
        "access",
        "--number",
        NUMBER,
        "--requester",
        "x",
    )
    assert run(config, capsys, "requests", "extend", "1", "--reason", "busy")[0] == 0
    status, _, err = run(config, capsys, "requests", "extend", "1", "--reason", "busier")
    assert status == 2
    assert "already extended" in err
    _, out, _ = run(config, capsys, "requests", "show", "1", "--json")
    assert json.loads(out)["due_at"].startswith(str((NOW + timedelta(days=90)).date()))


def test_an_unmigrated_database_is_one_clear_error(tmp_path, capsys, monkeypatch):
    """No tables yet: the message says to migrate, not a traceback."""
    path = write_config(tmp_path)
    (tmp_path / "db").mkdir()
    assert main(["requests", "list", "-c", str(path)]) == 2
    assert "callrec migrate" in capsys.readouterr().err


def test_an_export_without_a_request_is_refused_and_the_refusal_audited(config, capsys, tmp_path):
    """`callrec export` with no --request: one sentence, no folder, an access.refused entry."""
    store(config, recorded(tmp_path / "recordings", "a1"))
    status, _, err = run(config, capsys, "export", NUMBER, "--out", str(tmp_path / "pkg"))
    assert status == 2
    assert err.startswith("callrec: Recordings are exported only to answer an open access")
    assert not (tmp_path / "pkg").exists()
    status, out, _ = run(config, capsys, "audit", "show", "--action", "access.refused", "--json")
    refusals = json.loads(out)
    assert [(r["target"], r["detail"]["error_id"]) for r in refusals] == [
        ("cli export", "forbidden")
    ]
