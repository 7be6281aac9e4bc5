"""One supervisor per background task: a duty that cannot stop silently.

A task (the purge, the route refresh, the call writer...) runs inside ``Supervisor.run``::

    run ──> job(status) ──raises/returns──> log (traceback) ──> sleep(backoff) ──┐
     ^                                                                        │
     └────────────────────────────────────────────────────────────────────────┘

The delay after a crash grows (``Backoff``: minimum, doubled each time, capped) and starts
again from the minimum once the job had run a healthy stretch before crashing. Each job also
reports the outcome of its rounds to its ``TaskStatus`` (``succeeded()`` / ``failed(...)``):
a job that fails every round without raising (the database is down) counts as failing after
``failing_after_rounds`` such rounds in a row. ``TaskStatus.view`` is what ``/healthz`` shows.

The clock and the sleep are injected, so the rules are tested without waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import structlog

log = structlog.get_logger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Monotonic = Callable[[], float]
WallClock = Callable[[], datetime]


class Rounds(Protocol):
    """What a periodic job tells its supervisor after each round."""

    def succeeded(self) -> None:
        """The round did its work."""

    def failed(self, error: str) -> None:
        """The round failed (and was handled); ``error`` is one sentence."""


class _Unwatched:
    """Rounds reported to nobody: a job run on its own (a test, a one-off)."""

    def succeeded(self) -> None:
        """Nothing to record."""

    def failed(self, error: str) -> None:
        """Nothing to record."""


UNWATCHED: Rounds = _Unwatched()


@dataclass(frozen=True, kw_only=True)
class Backoff:
    """How long to wait before restarting a crashed job."""

    min_seconds: float = 1.0
    max_seconds: float = 300.0
    # A job that ran this long without crashing has recovered: its next crash waits the
    # minimum again, and a job that reports no rounds (the call writer) is healthy again.
    healthy_seconds: float = 60.0

    def delay(self, crashes_in_a_row: int) -> float:
        """The wait after the ``crashes_in_a_row``-th crash in a row (1 for the first)."""
        exponent = max(crashes_in_a_row - 1, 0)
        return float(min(self.min_seconds * 2 ** min(exponent, 62), self.max_seconds))


def _utc_now() -> datetime:
    return datetime.now(UTC)


class TaskStatus:
    """The state of one supervised task, as ``/healthz`` reports it."""

    def __init__(
        self,
        name: str,
        *,
        failing_after_rounds: int = 3,
        healthy_seconds: float = Backoff.healthy_seconds,
        clock: WallClock = _utc_now,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self.name = name
        self.restarts = 0
        self.last_error: str | None = None
        self.last_success: datetime | None = None
        self.failed_rounds = 0  # in a row, handled inside the job
        self.crashed = False  # the last run raised or returned; cleared by a good round
        # Totals since the process started (for /metrics): never reset by a recovery.
        self.crashes = 0
        self.rounds_failed = 0
        self._failing_after = failing_after_rounds
        self._healthy_seconds = healthy_seconds
        self._clock = clock
        self._monotonic = monotonic
        self._running_since: float | None = None

    def succeeded(self) -> None:
        """A round did its work: the task is healthy again."""
        self.last_success = self._clock()
        self.failed_rounds = 0
        self.crashed = False

    def failed(self, error: str) -> None:
        """A round failed without raising (e.g. the database is down)."""
        self.failed_rounds += 1
        self.rounds_failed += 1
        self.last_error = error

    def started(self) -> None:
        """The supervisor (re)started the job."""
        self._running_since = self._monotonic()

    def crash(self, error: str) -> None:
        """The job raised (or ended): it is failing until it reports a good round or has run
        a healthy stretch since its restart."""
        self.crashed = True
        self.crashes += 1
        self._running_since = None
        self.last_error = error

    @property
    def failing(self) -> bool:
        """True while the task crashed and has not recovered, or keeps failing its rounds."""
        if self.failed_rounds >= self._failing_after:
            return True
        if not self.crashed:
            return False
        since = self._running_since
        return since is None or self._monotonic() - since < self._healthy_seconds

    def view(self) -> dict[str, object]:
        """The task's state as JSON-ready data."""
        return {
            "state": "failing" if self.failing else "running",
            "last_error": self.last_error,
            "restarts": self.restarts,
            "failed_rounds": self.failed_rounds,
            "last_success": self.last_success.isoformat() if self.last_success else None,
        }


def describe_crash(exc: BaseException | None) -> str:
    """One sentence for ``/healthz``: what the job raised, or that it ended."""
    if exc is None:
        return "The task ended on its own."
    detail = str(exc).strip().rstrip(".")
    kind = type(exc).__name__
    return (
        f"The task crashed with {kind}: {detail}." if detail else f"The task crashed with {kind}."
    )


class Supervisor:
    """Runs one job until cancelled: logs every crash with its traceback, restarts it after a
    growing delay, and keeps its ``status`` up to date."""

    def __init__(
        self,
        status: TaskStatus,
        job: Callable[[Rounds], Awaitable[None]],
        *,
        backoff: Backoff = Backoff(),
        sleep: Sleep = asyncio.sleep,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self.status = status
        self._job = job
        self._backoff = backoff
        self._sleep = sleep
        self._monotonic = monotonic

    async def run(self) -> None:
        """Run the job, restarting it after each crash, until cancelled."""
        name = self.status.name
        crashes = 0
        while True:
            started = self._monotonic()
            self.status.started()
            error: Exception | None = None
            try:
                await self._job(self.status)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any bug: logged with traceback, restarted
                error = exc
            if self._monotonic() - started >= self._backoff.healthy_seconds:
                crashes = 0
            crashes += 1
            delay = self._backoff.delay(crashes)
            self.status.crash(describe_crash(error))
            if error is None:
                log.error("task.ended", task=name, restart_in_seconds=delay)
            else:
                log.error("task.crashed", task=name, restart_in_seconds=delay, exc_info=error)
            await self._sleep(delay)
            self.status.restarts += 1


class Duties:
    """The supervised tasks of one process, by name: started, reported, stopped together."""

    def __init__(
        self,
        *,
        backoff: Backoff = Backoff(),
        sleep: Sleep = asyncio.sleep,
        clock: WallClock = _utc_now,
    ) -> None:
        self._backoff = backoff
        self._sleep = sleep
        self._clock = clock
        self.statuses: dict[str, TaskStatus] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, name: str, job: Callable[[Rounds], Awaitable[None]]) -> asyncio.Task[None]:
        """Start ``job`` under a supervisor named ``name``; the task, for its owner to stop."""
        status = TaskStatus(name, healthy_seconds=self._backoff.healthy_seconds, clock=self._clock)
        supervisor = Supervisor(status, job, backoff=self._backoff, sleep=self._sleep)
        task = asyncio.create_task(supervisor.run(), name=name)
        self.statuses[name] = status
        self._tasks[name] = task
        task.add_done_callback(lambda _: self._tasks.pop(name, None))
        return task

    @property
    def failing(self) -> list[str]:
        """The names of the tasks failing now, sorted."""
        return sorted(name for name, status in self.statuses.items() if status.failing)

    def view(self) -> dict[str, dict[str, object]]:
        """Every task's state, by name."""
        return {name: status.view() for name, status in sorted(self.statuses.items())}

    async def stop(self, *names: str) -> None:
        """Cancel the named tasks and wait for them to end."""
        tasks = [self._tasks[name] for name in names if name in self._tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
