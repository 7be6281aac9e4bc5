"""The supervisor of background tasks, driven with an injected sleep and clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from structlog.testing import capture_logs

from callrec_ari.supervision import Backoff, Duties, Rounds, Supervisor, TaskStatus

NOW = datetime(2027, 6, 1, tzinfo=UTC)


class RoundsDoneError(Exception):
    """Raised by the injected sleep once the wanted number of restarts has happened."""


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def sleeps(count: int, delays: list[float]):
    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) >= count:
            raise RoundsDoneError

    return sleep


async def test_the_delay_doubles_after_each_crash_up_to_the_cap():
    """A job that crashes at once is restarted after 1, 2, 4, 8 s... never more than the cap."""

    async def job(rounds: Rounds) -> None:
        raise KeyError("a bug")

    delays: list[float] = []
    status = TaskStatus("example")
    supervisor = Supervisor(
        status,
        job,
        backoff=Backoff(min_seconds=1, max_seconds=10, healthy_seconds=60),
        sleep=sleeps(6, delays),
        monotonic=Clock(),
    )
    with capture_logs() as logs, pytest.raises(RoundsDoneError):
        await supervisor.run()
    assert delays == [1, 2, 4, 8, 10, 10]
    assert status.restarts == 5
    assert status.failing
    assert status.last_error == "The task crashed with KeyError: 'a bug'."
    assert all(line["event"] == "task.crashed" for line in logs)
    assert all(isinstance(line["exc_info"], KeyError) for line in logs)


async def test_a_healthy_stretch_resets_the_delay():
    """A job that ran longer than the healthy stretch before crashing restarts after the
    minimum again, not after the grown delay."""
    clock = Clock()
    runtimes = iter([0, 0, 0, 120, 0])

    async def job(rounds: Rounds) -> None:
        clock.now += next(runtimes)
        raise RuntimeError("boom")

    delays: list[float] = []
    supervisor = Supervisor(
        TaskStatus("example"),
        job,
        backoff=Backoff(min_seconds=1, max_seconds=100, healthy_seconds=60),
        sleep=sleeps(5, delays),
        monotonic=clock,
    )
    with capture_logs(), pytest.raises(RoundsDoneError):
        await supervisor.run()
    assert delays == [1, 2, 4, 1, 2]


async def test_a_job_that_returns_is_restarted_and_reported():
    """Returning is not a way to stop silently: it is logged and the job starts again."""

    async def job(rounds: Rounds) -> None:
        rounds.succeeded()

    status = TaskStatus("example")
    delays: list[float] = []
    with capture_logs() as logs, pytest.raises(RoundsDoneError):
        await Supervisor(status, job, sleep=sleeps(1, delays), monotonic=Clock()).run()
    assert [line["event"] for line in logs] == ["task.ended"]
    assert status.last_error == "The task ended on its own."
    assert status.failing


async def test_a_good_round_after_a_crash_clears_the_failure():
    """Once the restarted job reports a good round the task counts as running again, with
    its restarts and the time of that success shown."""
    attempts: list[int] = []

    async def job(rounds: Rounds) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise ValueError("'nonsense' is not a valid DeclineAction")
        rounds.succeeded()
        await asyncio.Event().wait()  # a periodic job runs until cancelled

    status = TaskStatus("purge", clock=lambda: NOW)
    supervisor = Supervisor(status, job, sleep=lambda _: asyncio.sleep(0), monotonic=Clock())
    with capture_logs():
        task = asyncio.create_task(supervisor.run())
        while status.last_success is None:  # noqa: ASYNC110 - the job runs in this loop
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert status.view() == {
        "state": "running",
        "last_error": "The task crashed with ValueError: 'nonsense' is not a valid DeclineAction.",
        "restarts": 1,
        "failed_rounds": 0,
        "last_success": NOW.isoformat(),
    }


def test_rounds_failed_without_raising_count_after_a_few():
    """A job that handles its own failures (database down) is failing after three failed
    rounds in a row, and running again after one good round."""
    status = TaskStatus("do-not-record", failing_after_rounds=3)
    status.failed("The do-not-record list could not be read: ConnectionRefusedError.")
    status.failed("The do-not-record list could not be read: ConnectionRefusedError.")
    assert not status.failing
    status.failed("The do-not-record list could not be read: ConnectionRefusedError.")
    assert status.failing
    assert status.view()["state"] == "failing"
    status.succeeded()
    assert not status.failing


def test_failure_totals_outlast_the_recovery():
    """The totals /metrics shows keep every crash and failed round, after a good round too."""
    status = TaskStatus("purge")
    status.failed("The purge failed: database down.")
    status.crash("The task crashed with ValueError.")
    status.failed("The purge failed: database down.")
    status.succeeded()
    assert not status.failing
    assert (status.crashes, status.rounds_failed) == (1, 2)
    assert status.failed_rounds == 0  # the count in a row starts again


async def test_cancelling_stops_the_job_and_the_supervisor_cleanly():
    """Stopping the service cancels the job inside the supervisor; nothing is logged as a
    crash and nothing is restarted."""
    started = asyncio.Event()
    cancelled: list[bool] = []

    async def job(rounds: Rounds) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    duties = Duties()
    with capture_logs() as logs:
        duties.start("example", job)
        await started.wait()
        await duties.stop("example")
    assert cancelled == [True]
    assert logs == []
    assert duties.statuses["example"].restarts == 0
    assert duties.failing == []


async def test_duties_name_the_failing_tasks():
    """The service's view lists every task and names those failing, for ``/healthz``."""

    async def bad(rounds: Rounds) -> None:
        raise OSError(28, "No space left on device")

    async def good(rounds: Rounds) -> None:
        rounds.succeeded()
        await asyncio.Event().wait()

    duties = Duties(backoff=Backoff(min_seconds=3600), clock=lambda: NOW)
    with capture_logs():
        duties.start("purge", bad)
        duties.start("routes", good)
        while not duties.failing or duties.statuses["routes"].last_success is None:  # noqa: ASYNC110
            await asyncio.sleep(0)
        view = duties.view()
        await duties.stop("purge", "routes")
    assert duties.failing == ["purge"]
    assert view["purge"]["state"] == "failing"
    assert view["purge"]["last_error"] == (
        "The task crashed with OSError: [Errno 28] No space left on device."
    )
    assert view["routes"]["state"] == "running"


def test_a_job_without_rounds_is_healthy_after_a_healthy_stretch():
    """The call writer reports no rounds: after a crash it is failing until it has run the
    healthy stretch since its restart."""
    clock = Clock()
    status = TaskStatus("call-writer", healthy_seconds=60, monotonic=clock)
    status.started()
    status.crash("The task crashed with RuntimeError: a bug.")
    assert status.failing
    clock.now = 5
    status.started()
    clock.now = 64
    assert status.failing
    clock.now = 65
    assert not status.failing
