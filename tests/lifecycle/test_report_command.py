"""``callrec retention report``: run as cron would run it, in a subprocess, on both databases."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import tomli_w
from sqlalchemy import select

from callrec_ari.db.models import AuditEntry
from callrec_ari.lifecycle import holds
from callrec_ari.lifecycle.holds import HoldRequest
from callrec_ari.recording.paths import relative_path
from callrec_ari.records import CallRecord, RecordingStatus
from tests.db.records import finished, ringing
from tests.lifecycle.conftest import set_columns, store
from tests.support.database import on_database

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
NOW = datetime.now(UTC)  # the subprocess reads the real clock


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Path:
    """A config on the test database whose service purges hourly (two hours of grace)."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["database"]["url"] = database_url
    data["recording"]["service_dir"] = str(tmp_path / "recordings")
    data["log"]["level"] = "warning"
    path = tmp_path / "callrec.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def call(uniqueid: str, *, days_ago: float, policy: str = "days-7", days: int = 7) -> CallRecord:
    """A finished recorded call started ``days_ago`` days ago, dated by its policy."""
    start = NOW - timedelta(days=days_ago)
    return dataclasses.replace(
        finished(ringing(uniqueid, start=start)),
        recording_path=str(relative_path(uniqueid, start)),
        retention_policy=policy,
        delete_after=start + timedelta(days=days),
    )


def report(config: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """``python -m callrec_ari retention report -c CONFIG [options]``."""
    return subprocess.run(
        [sys.executable, "-m", "callrec_ari", "retention", "report", "-c", str(config), *options],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def audit_entries(database_url: str) -> list[AuditEntry]:
    """The trail's ``retention.report`` entries."""

    async def read(sessions):
        async with sessions() as session:
            found = await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "retention.report")
            )
            return list(found)

    return on_database(database_url, read)


def test_nothing_overdue_exits_zero_and_the_reading_is_audited(config: Path, database_url: str):
    """Recent calls only: exit status 0, the oldest kept call per policy printed, and the
    audit trail records who read the report and what it showed."""
    on_database(
        database_url,
        lambda sessions: store(
            sessions,
            call("r.1", days_ago=3),
            call("r.2", days_ago=100, policy="months-6", days=183),
        ),
    )
    done = report(config)
    assert done.returncode == 0, done.stderr
    assert "overdue calls: 0" in done.stdout
    assert "  days-7  7 days  1 kept  oldest" in done.stdout
    assert "(100 days old)" in done.stdout
    [entry] = audit_entries(database_url)
    assert entry.actor.startswith("cli:")
    assert json.loads(entry.detail)["overdue_calls"] == 0
    assert json.loads(entry.detail)["exit_status"] == 0


def test_a_recording_that_could_not_be_repaired_is_named_for_a_decision(
    config: Path, database_url: str
):
    """A failed recording whose file is kept is listed as needing a decision, in text and
    JSON, without making the report fail (it is not overdue)."""
    cut = dataclasses.replace(
        call("r.9", days_ago=1), recording_status=RecordingStatus.FAILED, interrupted_by="pbx"
    )
    on_database(database_url, lambda sessions: store(sessions, cut, call("r.8", days_ago=1)))
    done = report(config)
    assert done.returncode == 0, done.stderr
    assert "recordings that need a decision: 1" in done.stdout
    assert f"  needs a decision {cut.recording_path}  call r.9  Asterisk died" in done.stdout
    data = json.loads(report(config, "--json").stdout)
    assert data["needs_decision_total"] == 1
    assert data["needs_decision"][0]["uniqueid"] == "r.9"
    assert data["needs_decision"][0]["interrupted_by"] == "pbx"


def test_a_call_past_its_date_exits_one_and_says_so(config: Path, database_url: str):
    """One call kept 30 days past its date (the purge never ran): exit status 1 and one
    sentence on stderr; the JSON form says the same."""
    on_database(database_url, lambda sessions: store(sessions, call("o.1", days_ago=37)))
    done = report(config)
    assert done.returncode == 1
    problems = [line for line in done.stderr.splitlines() if line.startswith("callrec:")]
    assert len(problems) == 1
    assert problems[0].startswith("callrec: 1 call kept past their deletion date, the oldest")
    as_json = report(config, "--json")
    assert as_json.returncode == 1
    body = json.loads(as_json.stdout)
    assert (body["overdue"], body["overdue_calls"]) == (True, 1)


def test_a_held_call_is_not_overdue_and_its_case_is_shown(config: Path, database_url: str):
    """A call past its date but under a legal hold is kept lawfully: exit status 0; the hold's
    case, reason and age are listed, and a hold with no end date older than 90 days is
    flagged."""

    async def seed(sessions):
        await store(sessions, call("h.1", days_ago=200))
        placed = NOW - timedelta(days=120)
        request = HoldRequest(case_reference="C-42", reason="pending lawsuit", placed_by="sue")
        await holds.hold_calls(sessions, request, ["h.1"], now=placed)
        await set_columns(sessions, "h.1", restricted_at=NOW, restriction_reason="Art. 18")

    on_database(database_url, seed)
    done = report(config, "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["overdue_calls"] == 0
    [held] = body["holds"]
    assert (held["case_reference"], held["reason"], held["age_days"]) == (
        "C-42",
        "pending lawsuit",
        120,
    )
    assert held["stale"] is True
    assert body["restricted_total"] == 1
    assert body["restricted"][0]["uniqueid"] == "h.1"


def test_a_call_just_past_its_date_is_within_the_grace(config: Path, database_url: str):
    """A call due an hour ago waits for the next purge round: not overdue (exit status 0)."""
    on_database(database_url, lambda sessions: store(sessions, call("g.1", days_ago=7 + 1 / 24)))
    done = report(config, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["overdue_calls"] == 0
