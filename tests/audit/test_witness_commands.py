"""``callrec audit witness`` and ``callrec audit verify [--against FILE]`` from the command line."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

import pytest

from callrec_ari.__main__ import main
from callrec_ari.audit.witness import sign
from callrec_ari.audit.witnessing import append_record
from callrec_ari.db.session import open_sessions
from tests.audit.conftest import NOW, add_entries, rewrite_tail
from tests.audit.test_commands import database, head_hash, run
from tests.test_main import write_config

WITNESS = ("var", "audit-witness.jsonl")


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A migrated SQLite database holding three entries (as in test_commands), no witness yet."""
    monkeypatch.setattr("callrec_ari.__main__._actor", lambda: "ola")
    path = write_config(tmp_path)
    assert main(["migrate", "-c", str(path)]) == 0
    grow(path, 3)
    return path


def witness_file(config: Path) -> Path:
    return config.parent.joinpath(*WITNESS)


def attack(config: Path, first: int, *, keep: int | None = None) -> None:
    async def go() -> None:
        async with open_sessions(database(config)) as sessions:
            await rewrite_tail(sessions, first, keep=keep)

    asyncio.run(go())


def grow(config: Path, count: int) -> None:
    async def go() -> None:
        async with open_sessions(database(config)) as sessions:
            await add_entries(sessions, count)

    asyncio.run(go())


def test_witness_signs_the_head_into_the_configured_file(config, capsys):
    """One line with seq, hash, time and HMAC; the key made beside it, mode 0600."""
    status, out, _ = run(config, capsys, "audit", "witness")
    path = witness_file(config)
    assert (status, out) == (0, f"Witnessed entry 3 (head {head_hash(config)}) in {path}\n")
    record = json.loads(path.read_text(encoding="utf-8"))
    assert (record["seq"], record["hash"]) == (3, head_hash(config))
    assert record["at"] == NOW.isoformat(timespec="microseconds")
    assert len(record["mac"]) == 64
    key = config.parent / "var" / "audit-witness.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_verify_checks_the_configured_witness_file_when_there_is_one(config, capsys):
    """Witnessed twice as the trail grew, untouched: exit 0 and a line about the witnesses."""
    run(config, capsys, "audit", "witness")
    grow(config, 2)
    run(config, capsys, "audit", "witness")
    status, out, _ = run(config, capsys, "audit", "verify")
    assert status == 0
    assert out.splitlines() == [
        f"5 entries, chain intact; head {head_hash(config)}",
        f"2 witness record(s) in {witness_file(config)}, all match the trail; newest: entry 5 "
        "at 2026-12-01T12:00:00+00:00",
    ]


def test_verify_against_names_a_rewritten_tail_that_the_chain_cannot_show(config, capsys):
    """The attack: triggers dropped, entries from 4 rewritten, every hash and the head
    recomputed. The chain alone passes; against the witness the command exits 1, naming 5."""
    run(config, capsys, "audit", "witness")
    grow(config, 2)
    run(config, capsys, "audit", "witness")
    copy = config.parent / "witness-copy.jsonl"
    copy.write_bytes(witness_file(config).read_bytes())
    witness_file(config).unlink()  # the attacker removes the local file too
    attack(config, 4)
    status, out, _ = run(config, capsys, "audit", "verify")
    assert (status, out) == (0, f"5 entries, chain intact; head {head_hash(config)}\n")
    status, out, _ = run(config, capsys, "audit", "verify", "--against", str(copy))
    assert status == 1
    assert out.splitlines() == [
        f"Entry 5, witnessed at 2026-12-01 12:00:00Z (line 2 of {copy}), no longer carries the "
        "witnessed hash: the trail was rewritten after entry 3, the last witnessed entry that "
        "still matches.",
        f"5 entries checked, 1 problem(s); head {head_hash(config)}",
        f"2 witness record(s) in {copy}, 1 problem(s); newest: entry 5 at "
        "2026-12-01T12:00:00+00:00",
    ]


def test_verify_names_a_trail_cut_back_behind_its_witness(config, capsys):
    """Entry 3 deleted and the head rewound to 2: the witness of 3 shows it, exit 1."""
    run(config, capsys, "audit", "witness")
    attack(config, 3, keep=2)
    status, out, _ = run(config, capsys, "audit", "verify")
    assert status == 1
    assert out.splitlines()[0] == (
        "The trail was cut back: it ends at entry 2, but entry 3 was witnessed at "
        f"2026-12-01 12:00:00Z (line 1 of {witness_file(config)})."
    )


def test_verify_names_a_forged_witness_line(config, capsys):
    """A line added without the key, vouching for another head, is named and fails the check."""
    run(config, capsys, "audit", "witness")
    append_record(witness_file(config), sign(b"k" * 32, seq=3, hash_="a" * 64, at=NOW))
    status, out, _ = run(config, capsys, "audit", "verify")
    assert status == 1
    assert out.splitlines()[0] == (
        f"Line 2 of {witness_file(config)} is forged: its signature for entry 3 was not made "
        "with the witness key."
    )


def test_verify_against_a_missing_file_is_one_sentence(config, capsys):
    """A witness file that is not there: exit 2 and the file named."""
    run(config, capsys, "audit", "witness")
    missing = config.parent / "nope.jsonl"
    status, _, err = run(config, capsys, "audit", "verify", "--against", str(missing))
    assert status == 2
    assert err == f"callrec: The witness file {missing} does not exist.\n"


def test_verify_against_without_the_key_makes_none(config, capsys):
    """Checking without the key says so and leaves no new key that would call lines forged."""
    run(config, capsys, "audit", "witness")
    key = config.parent / "var" / "audit-witness.key"
    key.unlink()
    status, _, err = run(config, capsys, "audit", "verify")
    assert status == 2
    assert err == (
        f"callrec: The audit witness key file {key} does not exist, so no witness can be checked.\n"
    )
    assert not key.exists()


def test_witness_into_an_unwritable_file_is_one_sentence(config, capsys):
    """A folder where the witness file should be: exit 2, the file and the reason named."""
    witness_file(config).mkdir(parents=True)
    status, _, err = run(config, capsys, "audit", "witness")
    assert status == 2
    assert err.splitlines()[-1] == (
        f"callrec: The witness file {witness_file(config)} cannot be written: Is a directory."
    )
    assert '"audit.witness"' in err  # the log's copy was written all the same


@pytest.mark.parametrize("action", ["witness", "verify"])
def test_a_witness_key_open_to_others_is_refused(config, capsys, action):
    """Both commands refuse a key group or world may read, in one sentence."""
    run(config, capsys, "audit", "witness")
    key = config.parent / "var" / "audit-witness.key"
    key.chmod(0o644)
    status, _, err = run(config, capsys, "audit", action)
    assert status == 2
    assert (
        err == f"callrec: The audit witness key file {key} is open to other users; chmod 600 it.\n"
    )
