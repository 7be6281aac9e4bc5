"""Importing the register into the database: complete rows, crash leftovers, idempotence."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from callrec_ari.db.journal import Journal
from callrec_ari.db.repository import agent_legs_of
from callrec_ari.db.writer import CallWriter
from callrec_ari.lifecycle.retention import add_months
from callrec_ari.records import Consent, Direction, RecordingStatus
from callrec_ari.register.importer import RegisterImporter
from tests.db.test_writer import running, stored
from tests.flow.conftest import example_settings
from tests.flow.test_outbound import outbound_settings
from tests.register.test_lines import CALLEE, OUT_END, OUT_START

T0 = datetime(2026, 12, 2, 2, 21, 52, 38000, tzinfo=UTC)
HEAD = "callrec-register/1"


def start(uniqueid: str = "1796178112.7", caller: str = "48221234567", did: str = "5551000"):
    """A start line as [callrec-register] writes it."""
    return f"{HEAD}|start|{uniqueid}|{uniqueid}|1796178112.038|{caller}|{did}\n"


def end(uniqueid: str = "1796178112.7", caller: str = "48221234567", did: str = "5551000"):
    """The matching end line: answered by reception, 21.25 s of talk, ended 28.5 s later."""
    return (
        f"{HEAD}|end|{uniqueid}|{uniqueid}|1796178112.038|{caller}|{did}"
        "|1796178140.541|21250|PJSIP/reception-0000001f|ANSWER\n"
    )


@pytest.fixture
def settings(tmp_path: Path):
    """The example configuration (5551000 keeps calls 7 days, others 6 months)."""
    return example_settings(tmp_path)


@pytest.fixture
async def writer(session_factory, tmp_path: Path):
    """A running writer with its journal, as the service has."""
    journal = Journal(tmp_path / "journal")
    writer = CallWriter(session_factory, journal=journal)
    async with running(writer):
        yield writer
    journal.close()


@pytest.fixture
def register(tmp_path: Path) -> Path:
    """Where the dialplan appends (CALLREC_REGISTER)."""
    return tmp_path / "recordings" / "unrecorded-calls.log"


def importer_for(register: Path, writer: CallWriter, settings, **options) -> RegisterImporter:
    """An importer handing calls to ``writer``, without the pause for a late append."""
    return RegisterImporter(
        register,
        submit=writer.submit,
        flush=options.pop("flush", writer.flush),
        settings=lambda: settings,
        settle_seconds=0,
        **options,
    )


def write(path: Path, *lines: str | bytes) -> None:
    """Append lines as FILE(...,al,u) does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as file:
        file.writelines(line if isinstance(line, bytes) else line.encode() for line in lines)


async def test_a_call_connected_without_the_service_gets_its_complete_row(
    register, writer, settings, session_factory
):
    """Start and end line become one row: service_unavailable, nothing recorded, caller, DID,
    agent, start, answer and end times, the route's retention; the file is gone after."""
    write(register, start(), end())
    assert await importer_for(register, writer, settings).import_once() == 1

    [row] = await stored(session_factory)
    assert row.consent == Consent.SERVICE_UNAVAILABLE
    assert row.recording_status == RecordingStatus.NONE
    assert (row.recording_path, row.sha256, row.duration_seconds) == (None, None, None)
    assert row.uniqueid == row.linkedid == "1796178112.7"
    assert (row.caller_number, row.caller_e164) == ("48221234567", "+48221234567")
    assert row.dialled_number == "5551000"
    assert row.agent == "reception"
    assert row.languages == ()
    assert row.started_at == T0
    assert row.ended_at == datetime(2026, 12, 2, 2, 22, 20, 541000, tzinfo=UTC)
    assert row.answered_at == row.ended_at - timedelta(seconds=21.25)
    assert row.retention_policy == "days-7"
    assert row.delete_after == T0 + timedelta(days=7)
    assert list(register.parent.iterdir()) == []


async def test_a_call_still_going_on_is_stored_then_completed_from_the_next_file(
    register, writer, settings, session_factory
):
    """Start and end lines split over two rounds: a row at once, the complete one later."""
    importer = importer_for(register, writer, settings)
    write(register, start(did="5559999"))
    await importer.import_once()
    [row] = await stored(session_factory)
    assert row.ended_at is None
    assert row.retention_policy == "months-6"  # the default route's

    write(register, end(did="5559999"))
    await importer.import_once()
    [row] = await stored(session_factory)
    assert row.ended_at is not None
    assert row.agent == "reception"


async def test_a_leftover_from_a_crash_is_imported_before_the_live_file(
    register, writer, settings, session_factory
):
    """The .importing file a killed service left (start of A) comes first, then the live file
    (end of A, all of B): both calls complete, both files gone."""
    register.parent.mkdir(parents=True)
    leftover = register.with_name(register.name + ".importing")
    write(leftover, start("1796178112.7"))
    write(register, end("1796178112.7"), start("1796178115.9"), end("1796178115.9"))

    assert await importer_for(register, writer, settings).import_once() == 3

    rows = {row.uniqueid: row for row in await stored(session_factory)}
    assert set(rows) == {"1796178112.7", "1796178115.9"}
    assert all(row.ended_at is not None for row in rows.values())
    assert list(register.parent.iterdir()) == []


async def test_importing_the_same_lines_again_changes_nothing(
    register, writer, settings, session_factory
):
    """A file imported twice (a crash after storing, before deleting) leaves the same rows."""
    importer = importer_for(register, writer, settings)
    write(register, start(), end())
    await importer.import_once()
    first = await stored(session_factory)
    write(register, start(), end(), start())  # a stray start line after the end, too
    await importer.import_once()
    assert await stored(session_factory) == first


async def test_the_file_is_kept_until_the_database_has_the_rows(
    register, writer, settings, session_factory
):
    """While the rows are not confirmed stored, the .importing file stays and no live file is
    taken over; the next round imports it and deletes it."""

    async def not_stored(_timeout: float) -> bool:
        return False

    write(register, start())
    with capture_logs() as logs:
        assert await importer_for(register, writer, settings, flush=not_stored).import_once() == 0
    importing = register.with_name(register.name + ".importing")
    assert importing.exists()
    assert [line["event"] for line in logs] == ["register.not_stored_yet"]

    write(register, end())
    assert await importer_for(register, writer, settings).import_once() == 2
    [row] = await stored(session_factory)
    assert row.ended_at is not None
    assert not importing.exists()
    assert not register.exists()


async def test_bad_lines_are_logged_by_position_and_skipped(
    register, writer, settings, session_factory
):
    """A forged or torn line is skipped with a warning that does not quote it; the good lines
    around it are imported."""
    write(
        register,
        start("1796178112.7"),
        f"{HEAD}|end|1796178112.7|1796178112.7|1|66613371337|x|||PJSIP/evil|ANSWER\n",
        b"\xff\xfe not UTF-8\n",
        end("1796178112.7"),
        f"{HEAD}|start|1796178113.1|1796178113.1|1796178113",  # torn: no newline, short
    )
    with capture_logs() as logs:
        assert await importer_for(register, writer, settings).import_once() == 1
    bad = [line for line in logs if line["event"] == "register.bad_line"]
    assert [line["line"] for line in bad] == [2, 3, 5]
    assert "66613371337" not in repr(logs)
    [row] = await stored(session_factory)
    assert row.agent == "reception"


async def test_the_routes_in_force_at_import_time_decide_the_retention(
    register, writer, settings, session_factory
):
    """An admin's route change the service runs with applies to imported calls too."""
    route = dataclasses.replace(settings.route_for("5551000"), retention="months-3")
    changed = dataclasses.replace(settings, routes={**settings.routes, "5551000": route})
    write(register, start())
    await importer_for(register, writer, changed).import_once()
    [row] = await stored(session_factory)
    assert row.retention_policy == "months-3"
    assert row.delete_after == add_months(T0, 3)  # the policy counts calendar months


async def test_no_register_file_is_nothing_to_do(register, writer, settings):
    """Without a file (no call connected without the service) a round imports nothing."""
    assert await importer_for(register, writer, settings).import_once() == 0


async def test_an_outbound_call_connected_without_the_service_gets_an_outbound_row(
    register, writer, session_factory, tmp_path: Path
):
    """Fail-open leaves no gap for outbound calls either: direction outbound, the route's
    retention, service_unavailable, nothing recorded."""
    write(register, OUT_START, OUT_END)
    settings = outbound_settings(tmp_path)
    assert await importer_for(register, writer, settings).import_once() == 1
    [row] = await stored(session_factory)
    assert row.direction == Direction.OUTBOUND
    assert row.consent == Consent.SERVICE_UNAVAILABLE
    assert row.recording_status == RecordingStatus.NONE
    assert (row.caller_e164, row.dialled_number, row.agent) == ("+40211234567", CALLEE, "agent100")
    assert row.linkedid == "1796178112.7"
    assert row.retention_policy == "months-3"
    assert row.delete_after == add_months(T0, 3)


async def test_outbound_lines_leave_no_row_while_outbound_consent_is_off(
    register, writer, settings, session_factory
):
    """With outbound off (seed 000) a staff call keeps no row, whether callrec was up or not."""
    write(register, OUT_START, OUT_END)
    await importer_for(register, writer, settings).import_once()
    assert await stored(session_factory) == []
    assert list(register.parent.iterdir()) == []


async def test_instances_sharing_the_register_each_import_into_a_file_of_their_own(
    register, writer, settings, session_factory
):
    """callrec-a's unstored .importing file is never touched by callrec-b, until b takes a
    dead a over: then b imports it, and every call has its row."""
    a = importer_for(register, writer, settings, instance="callrec-a")
    b = importer_for(register, writer, settings, instance="callrec-b")
    register.parent.mkdir(parents=True)
    left_by_a = register.with_name(register.name + ".importing-callrec-a")
    write(left_by_a, start("1796178112.7"), end("1796178112.7"))  # a was killed mid-import
    write(register, start("1796178115.9"))

    assert await b.import_once() == 1  # the live file only
    assert left_by_a.exists()
    b.adopt("callrec-a")
    write(register, end("1796178115.9"))
    assert await b.import_once() == 2  # a's call, then the live file's

    rows = {row.uniqueid: row for row in await stored(session_factory)}
    assert set(rows) == {"1796178112.7", "1796178115.9"}
    assert all(row.ended_at is not None for row in rows.values())
    assert list(register.parent.iterdir()) == []
    assert await a.import_once() == 0  # back, a finds nothing left to do


async def test_finished_calls_are_reported_once_their_file_is_stored(
    register, writer, settings, session_factory
):
    """A file the database has not confirmed reports nothing; imported, each finished call is
    reported once, and a call still going on only once its end line arrives."""
    reported: list[tuple[str, Consent]] = []

    def report(record) -> None:
        reported.append((record.uniqueid, record.consent))

    async def not_stored(_timeout: float) -> bool:
        return False

    write(register, start("1796178112.7"), end("1796178112.7"), start("1796178115.9"))
    with capture_logs():
        await importer_for(
            register, writer, settings, flush=not_stored, stored=report
        ).import_once()
    assert reported == []
    importer = importer_for(register, writer, settings, stored=report)
    await importer.import_once()
    assert reported == [("1796178112.7", Consent.SERVICE_UNAVAILABLE)]
    write(register, end("1796178115.9"))
    await importer.import_once()
    assert [uniqueid for uniqueid, _ in reported] == ["1796178112.7", "1796178115.9"]


async def test_a_queued_call_gets_its_agents_from_the_agent_lines(
    register, writer, settings, session_factory
):
    """A Queue leaves the end line without an agent: the agent lines give the row its first
    agent and answer time, and call_agents a leg per agent with joined and left times (an
    agent still on when the caller hung up leaves with the call)."""
    call = "1796178112.7"
    queued = end().replace("|21250|PJSIP/reception-0000001f|ANSWER", "|||")
    write(
        register,
        start(),
        f"{HEAD}|agent-answered|{call}|1796178113.9|PJSIP/agent100-0000001f|1796178115.5\n",
        f"{HEAD}|agent-answered|{call}|1796178120.4|PJSIP/agent101-00000021|1796178125\n",
        f"{HEAD}|agent-left|{call}|1796178113.9|PJSIP/agent100-0000001f|1796178115.5|1796178125\n",
        queued,
    )
    assert await importer_for(register, writer, settings).import_once() == 1
    [row] = await stored(session_factory)
    assert row.agent == "agent100"
    assert row.answered_at == datetime.fromtimestamp(1796178115.5, UTC)
    async with session_factory() as session:
        legs = (await agent_legs_of(session, [call]))[call]
    assert [(leg.agent, leg.joined_at, leg.left_at) for leg in legs] == [
        (
            "agent100",
            datetime.fromtimestamp(1796178115.5, UTC),
            datetime.fromtimestamp(1796178125, UTC),
        ),
        ("agent101", datetime.fromtimestamp(1796178125, UTC), row.ended_at),
    ]
