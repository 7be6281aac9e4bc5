"""Witnessing the head outside the database, and the attacks only a witness shows, on SQLite
and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from callrec_ari.app import DUTIES, METRICS, SESSIONS, SETTINGS, _housekeeping
from callrec_ari.audit.verify import verify_chain
from callrec_ari.audit.witness import Kind, Report, sign
from callrec_ari.audit.witness_key import load_or_create_key
from callrec_ari.audit.witnessing import (
    Witnesser,
    append_record,
    check_against,
    witness_periodically,
)
from callrec_ari.errors import ConfigError
from callrec_ari.metrics import Metrics
from callrec_ari.supervision import Backoff, Duties
from tests.ari.fake_server import eventually
from tests.audit.conftest import add_entries, head, rewrite_tail
from tests.flow.conftest import example_settings

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


class RoundsDoneError(Exception):
    """Raised by the injected sleep once the wanted number of rounds has run."""


def rounds(count: int, between: Callable[[int], object] | None = None):
    """A sleep that stops the job after ``count`` rounds, running ``between(n)`` after round
    ``n`` (it may return a coroutine, awaited)."""
    done: list[float] = []

    async def sleep(seconds: float) -> None:
        done.append(seconds)
        if len(done) >= count:
            raise RoundsDoneError
        if between is not None:
            result = between(len(done))
            if asyncio.iscoroutine(result):
                await result

    return sleep


def clock() -> Callable[[], datetime]:
    ticks = iter(range(1000))
    return lambda: NOW + timedelta(minutes=next(ticks))


@pytest.fixture
def witnesser(tmp_path: Path) -> Witnesser:
    """A witnesser with a fresh key and no witness file yet."""
    return Witnesser(load_or_create_key(tmp_path / "witness.key"), tmp_path / "witness.jsonl")


async def checked(sessions: async_sessionmaker[AsyncSession], witnesser: Witnesser):
    """Plain verification, then the check against the witness file, as ``audit verify`` does."""
    async with sessions() as session:
        verdict = await verify_chain(session)
        report = await check_against(
            session, key=witnesser.key, path=witnesser.path, head_seq=verdict.head_seq
        )
    return verdict, report


def kinds(report: Report) -> list[tuple[int | None, Kind]]:
    return [(problem.seq, problem.kind) for problem in report.problems]


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


async def test_a_rewritten_tail_passes_the_chain_but_not_the_witness(session_factory, witnesser):
    """Triggers dropped, entries from 4 rewritten with every hash and the head recomputed: the
    chain is intact, and the witness names entry 5, the first witnessed one that changed."""
    await add_entries(session_factory, 3)
    assert (await witnesser.witness_if_moved(session_factory, NOW)).seq == 3
    await add_entries(session_factory, 2)
    assert (await witnesser.witness_if_moved(session_factory, NOW)).seq == 5
    await add_entries(session_factory, 2)
    forged_head = await rewrite_tail(session_factory, 4)
    verdict, report = await checked(session_factory, witnesser)
    assert verdict.intact
    assert verdict.head_hash == forged_head
    assert kinds(report) == [(5, Kind.REWRITTEN)]
    assert report.problems[0].text == (
        f"Entry 5, witnessed at 2026-12-02 06:00:00Z (line 2 of {witnesser.path}), no longer "
        "carries the witnessed hash: the trail was rewritten after entry 3, the last witnessed "
        "entry that still matches."
    )


async def test_a_cut_back_trail_passes_the_chain_but_not_the_witness(session_factory, witnesser):
    """Entries after 3 deleted and the head rewound to entry 3: the witness of 5 names it."""
    await add_entries(session_factory, 5)
    await witnesser.witness_if_moved(session_factory, NOW)
    await rewrite_tail(session_factory, 4, keep=3)
    verdict, report = await checked(session_factory, witnesser)
    assert verdict.intact
    assert verdict.head_seq == 3
    assert kinds(report) == [(5, Kind.TRUNCATED)]
    assert report.problems[0].text.startswith(
        "The trail was cut back: it ends at entry 3, but entry 5 was witnessed at "
    )


async def test_a_forged_witness_line_is_named(session_factory, witnesser):
    """A line vouching for the attacker's head without the key is named as forged."""
    await add_entries(session_factory, 5)
    await witnesser.witness_if_moved(session_factory, NOW)
    forged_head = await rewrite_tail(session_factory, 2)
    append_record(witnesser.path, sign(bytes(32), seq=5, hash_=forged_head, at=NOW))
    _, report = await checked(session_factory, witnesser)
    assert kinds(report) == [(5, Kind.FORGED), (5, Kind.REWRITTEN)]
    assert report.problems[0].text == (
        f"Line 2 of {witnesser.path} is forged: its signature for entry 5 was not made with "
        "the witness key."
    )


async def test_an_honest_trail_matches_every_witness(session_factory, witnesser):
    """Witnessed as it grew and untouched since: nothing to report, the newest witness named."""
    for _ in range(3):
        await add_entries(session_factory, 2)
        await witnesser.witness_if_moved(session_factory, NOW)
    verdict, report = await checked(session_factory, witnesser)
    assert verdict.intact
    assert report.intact
    assert (report.records, report.newest.seq) == (3, 6)


async def test_the_job_witnesses_only_when_the_head_moved(session_factory, witnesser):
    """Five rounds, entries added after the second only: two witness lines, two log copies."""

    async def grow(round_done: int):
        if round_done == 2:
            await add_entries(session_factory, 1)

    await add_entries(session_factory, 2)
    with capture_logs() as logs, pytest.raises(RoundsDoneError):
        await witness_periodically(
            witnesser, session_factory, interval_seconds=60, clock=clock(), sleep=rounds(5, grow)
        )
    assert [line.count('"seq":') for line in lines(witnesser.path)] == [1, 1]
    witnessed = [log for log in logs if log["event"] == "audit.witness"]
    assert [(log["seq"], log["hash"]) for log in witnessed] == [
        (2, witnessed[0]["hash"]),
        (3, (await head(session_factory))[1]),
    ]
    assert witnessed[0]["mac"] in lines(witnesser.path)[0]


async def test_an_empty_trail_is_not_witnessed(session_factory, witnesser):
    """Nothing appended yet: nothing to witness, no file made."""
    assert await witnesser.witness_if_moved(session_factory, NOW) is None
    assert not witnesser.path.exists()


async def test_a_restarted_service_does_not_witness_the_same_head_again(session_factory, tmp_path):
    """The last genuine line of the file is where a new witnesser starts from."""
    settings = example_settings(tmp_path).audit
    await add_entries(session_factory, 2)
    assert await Witnesser.open(settings).witness_if_moved(session_factory, NOW)
    assert await Witnesser.open(settings).witness_if_moved(session_factory, NOW) is None
    assert len(lines(settings.witness_file)) == 1


async def test_an_unwritable_witness_file_is_logged_every_round_and_retried(
    session_factory, witnesser
):
    """The file cannot be written (a folder is in its place): each round logs an error with the
    log copy before it, the job goes on, and writes once the file can be written again."""
    witnesser.path.mkdir()

    def repair(round_done: int) -> None:
        if round_done == 3:
            witnesser.path.rmdir()

    await add_entries(session_factory, 1)
    with capture_logs() as logs, pytest.raises(RoundsDoneError):
        await witness_periodically(
            witnesser, session_factory, interval_seconds=60, clock=clock(), sleep=rounds(5, repair)
        )
    events = [(log["event"], log["log_level"]) for log in logs]
    assert events == [("audit.witness", "info"), ("audit.witness_failed", "error")] * 3 + [
        ("audit.witness", "info")
    ]
    assert "IsADirectoryError" in logs[1]["error"]
    assert len(lines(witnesser.path)) == 1


class Reported:
    """The rounds a job reported, as its supervisor would count them."""

    def __init__(self) -> None:
        self.outcomes: list[str] = []

    def succeeded(self) -> None:
        self.outcomes.append("ok")

    def failed(self, error: str) -> None:
        self.outcomes.append(error)


async def test_the_job_reports_failed_rounds_to_its_supervisor(session_factory, witnesser):
    """An unwritable witness file is a failed round for /healthz, an unmoved head a good one."""
    witnesser.path.mkdir()

    def repair(round_done: int) -> None:
        if round_done == 2:
            witnesser.path.rmdir()

    await add_entries(session_factory, 1)
    reported = Reported()
    with capture_logs(), pytest.raises(RoundsDoneError):
        await witness_periodically(
            witnesser,
            session_factory,
            interval_seconds=60,
            clock=clock(),
            sleep=rounds(4, repair),
            rounds=reported,
        )
    failed, failed_again, *good = reported.outcomes
    assert failed == failed_again
    assert failed.startswith(f"The witness file {witnesser.path} cannot be written")
    assert good == ["ok", "ok"]


async def test_a_database_outage_skips_the_round_with_a_warning(witnesser):
    """The database down: a warning per round, no witness, the job still running."""

    def unreachable():
        raise ConnectionRefusedError(111, "refused")

    with capture_logs() as logs, pytest.raises(RoundsDoneError):
        await witness_periodically(
            witnesser, unreachable, interval_seconds=60, clock=clock(), sleep=rounds(2)
        )
    assert [log["event"] for log in logs] == ["audit.witness_skipped"] * 2
    assert not witnesser.path.exists()


async def test_a_rewrite_of_a_witnessed_entry_is_logged_at_the_next_round(
    session_factory, witnesser
):
    """The service sees a witnessed entry changed as soon as the head moves: an error naming it."""
    await add_entries(session_factory, 3)
    await witnesser.witness_if_moved(session_factory, NOW)
    await rewrite_tail(session_factory, 2)
    await add_entries(session_factory, 1)
    with capture_logs() as logs:
        await witnesser.witness_if_moved(session_factory, NOW)
    mismatch = [log for log in logs if log["event"] == "audit.witness_mismatch"]
    assert [(log["seq"], log["log_level"]) for log in mismatch] == [(3, "error")]
    assert "Entry 3 no longer carries the hash witnessed at" in mismatch[0]["problem"]


async def test_the_service_witnesses_the_head_once_started(session_factory, tmp_path):
    """The service's housekeeping starts the witness job under its supervisor: the head appears
    in the file and /healthz's task list shows the job's good round."""
    await add_entries(session_factory, 2)
    app = web.Application()
    app[SETTINGS] = example_settings(tmp_path)
    app[SESSIONS] = session_factory
    app[DUTIES] = Duties(backoff=Backoff())
    app[METRICS] = Metrics()
    running = _housekeeping(app)
    await anext(running)
    try:
        path = app[SETTINGS].audit.witness_file
        await eventually(lambda: path.exists() and path.read_text(encoding="utf-8").endswith("\n"))
        await eventually(lambda: app[DUTIES].view()["audit-witness"]["last_success"] is not None)
        assert app[DUTIES].view()["audit-witness"]["state"] == "running"
    finally:
        with pytest.raises(StopAsyncIteration):
            await anext(running)
    assert '"seq":2' in lines(path)[0]


async def test_a_witness_key_open_to_others_stops_the_service_from_starting(
    session_factory, tmp_path
):
    """A group-readable key is refused before any task starts, in one sentence."""
    settings = example_settings(tmp_path)
    load_or_create_key(settings.audit.witness_key_file)
    settings.audit.witness_key_file.chmod(0o640)
    app = web.Application()
    app[SETTINGS] = settings
    app[SESSIONS] = session_factory
    app[DUTIES] = Duties(backoff=Backoff())
    with pytest.raises(ConfigError, match=r"is open to other users; chmod 600 it\.$"):
        await anext(_housekeeping(app))
