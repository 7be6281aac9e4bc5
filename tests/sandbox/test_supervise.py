"""``sandbox up``'s supervisor: a dead Asterisk or phone is said and restarted, within limits."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from callrec_ari.errors import SandboxError
from callrec_ari.sandbox.supervise import RestartBudget, Supervisor, supervise


@dataclass
class FakeProcess:
    """Stands in for the sandbox's Asterisk or phone: exits when told, restarts when asked."""

    status: int | None = None
    starts: int = 0

    def exit_status(self) -> int | None:
        return self.status

    def start(self) -> None:
        self.starts += 1
        self.status = None


@dataclass
class FakeSession:
    asterisk: FakeProcess = field(default_factory=FakeProcess)
    agent: FakeProcess = field(default_factory=FakeProcess)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def supervisor(session: FakeSession, said: list[str], clock: Clock) -> Supervisor:
    return Supervisor(session, say=said.append, clock=clock, limit=3, window_seconds=60)


def test_running_processes_are_left_alone():
    """Nothing said, nothing restarted while both run."""
    session, said = FakeSession(), []
    supervisor(session, said, Clock()).check()
    assert said == []
    assert (session.asterisk.starts, session.agent.starts) == (0, 0)


def test_a_dead_asterisk_and_phone_are_said_and_restarted():
    """Each gets one sentence before and one after its restart."""
    session, said = FakeSession(), []
    session.asterisk.status = -9
    session.agent.status = 1
    watcher = supervisor(session, said, Clock())
    watcher.check()
    assert said == [
        "Asterisk exited with status -9; restarting it.",
        "Asterisk is running again.",
        "The agent's phone exited with status 1; restarting it.",
        "The agent's phone is running again.",
    ]
    assert (session.asterisk.starts, session.agent.starts) == (1, 1)
    assert watcher.restarts == 2


def test_a_process_that_keeps_dying_stops_the_supervisor_with_one_sentence():
    """Three restarts within a minute are allowed; the fourth death gives up."""
    session, said, clock = FakeSession(), [], Clock()
    watcher = supervisor(session, said, clock)
    for _ in range(3):
        session.asterisk.status = 1
        watcher.check()
        clock.now += 5
    session.asterisk.status = 1
    with pytest.raises(SandboxError, match=r"Asterisk exited 4 times within 60 s"):
        watcher.check()
    assert session.asterisk.starts == 3


def test_deaths_far_apart_are_each_restarted():
    """The limit counts restarts within the window only."""
    budget = RestartBudget(limit=1, window_seconds=60)
    assert budget.spend(0)
    assert not budget.spend(30)
    assert budget.spend(61)


async def test_supervise_checks_until_a_process_keeps_dying():
    """The loop runs the checks off the event loop and ends with the supervisor's error."""
    session, said, clock = FakeSession(), [], Clock()
    session.agent.status = 2
    watcher = Supervisor(session, say=said.append, clock=clock, limit=0)
    with pytest.raises(SandboxError, match="The agent's phone exited 1 times"):
        await asyncio.wait_for(supervise(watcher, interval_seconds=0), 5)
