"""``callrec evidence UNIQUEID``: the statement printed, the read audited, bad ids one sentence."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from callrec_ari.__main__ import main
from callrec_ari.db.models import AuditEntry
from callrec_ari.db.repository import upsert_call
from callrec_ari.evidence.facts import Fact, Kind, PromptHeard
from callrec_ari.records import Consent, RecordingStatus
from tests.db.records import T0, ringing
from tests.support.database import on_database
from tests.test_main import write_config

SHA = "c0" * 32
NOW = T0.replace(day=30)


@pytest.fixture
def config(tmp_path: Path, monkeypatch) -> Path:
    """A migrated SQLite database holding one recorded call with its evidence; operator ola."""
    monkeypatch.setattr("callrec_ari.__main__._actor", lambda: "ola")
    path = write_config(tmp_path)
    assert main(["migrate", "-c", str(path)]) == 0
    heard = Fact(
        kind=Kind.HEARD,
        at=T0.replace(second=40),
        language="pl",
        prompts=(PromptHeard(name="announcement", language="pl", version=2, sha256=SHA),),
    )
    record = dataclasses.replace(
        ringing("1795514341.6"),
        consent=Consent.GIVEN,
        recording_status=RecordingStatus.RECORDING,
        evidence=(
            Fact(kind=Kind.OFFERED, at=T0, digit="9"),
            heard,
            Fact(kind=Kind.ENDED, at=heard.at),
            Fact(kind=Kind.RECORDING, at=T0.replace(second=41)),
        ),
    )

    async def store(sessions):
        async with sessions() as session, session.begin():
            await upsert_call(session, record)

    on_database(url(path), store)
    return path


def url(config: Path) -> str:
    return f"sqlite+aiosqlite:///{config.parent / 'db' / 'callrec.sqlite3'}"


def run(config: Path, capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main([*argv, "-c", str(config)], clock=lambda: NOW)
    out, err = capsys.readouterr()
    return status, out, err


def reads(config: Path) -> list[AuditEntry]:
    async def job(sessions):
        async with sessions() as session:
            query = select(AuditEntry).where(AuditEntry.action == "evidence.read")
            return list(await session.scalars(query))

    return on_database(url(config), job)


def test_the_statement_names_the_audio_heard_and_the_read_is_audited(config, capsys):
    """The dpo at the server reads what the caller heard; the trail says who read it."""
    status, out, err = run(config, capsys, "evidence", "1795514341.6")
    assert (status, err) == (0, "")
    assert f"The caller heard announcement v2 (pl, sha256 {SHA}) to its end at 09:30:40." in out
    assert "The announcement ended at 09:30:40 and the caller stayed on." in out
    assert "Recording started 09:30:41." in out
    [entry] = reads(config)
    assert (entry.actor, entry.target) == ("cli:ola", "1795514341.6")
    assert json.loads(entry.detail)["via"] == "cli"


def test_json_gives_the_stored_facts(config, capsys):
    """``--json`` prints the facts as stored, for a program."""
    status, out, _ = run(config, capsys, "evidence", "1795514341.6", "--json")
    assert status == 0
    facts = json.loads(out)
    assert [fact["kind"] for fact in facts] == [
        "offered",
        "heard",
        "announcement_ended",
        "recording_started",
    ]
    assert facts[1]["prompts"][0]["sha256"] == SHA


@pytest.mark.parametrize(
    ("uniqueid", "message"),
    [
        ("1795514341.9", "callrec: Call '1795514341.9' does not exist."),
        ("'; drop table calls", "is not an Asterisk uniqueid such as 1795514341.6."),
    ],
)
def test_an_unknown_or_invalid_id_is_one_sentence_and_nothing_is_audited(
    config, capsys, uniqueid, message
):
    """A call that is not there, or text that is no call id: one line, no read recorded."""
    status, out, err = run(config, capsys, "evidence", uniqueid)
    assert status != 0
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert message in err
    assert reads(config) == []
