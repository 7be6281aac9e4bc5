"""``sandbox up`` watches what it started: a dead Asterisk or phone is said and restarted.

A process that keeps dying (``limit`` times within ``window_seconds``) is not restarted for
ever: the supervisor gives up with one sentence and ``sandbox up`` exits non-zero. Each check
also reaps the exited process, so no zombie is left behind.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from callrec_ari.errors import SandboxError
from callrec_ari.sandbox.session import SandboxSession


@dataclass(kw_only=True)
class RestartBudget:
    """How often one process may be restarted: ``limit`` times per ``window_seconds``."""

    limit: int = 3
    window_seconds: float = 60.0
    times: deque[float] = field(default_factory=deque)

    def spend(self, now: float) -> bool:
        """Count a restart at ``now``; False once the budget of the window is used up."""
        while self.times and now - self.times[0] > self.window_seconds:
            self.times.popleft()
        if len(self.times) >= self.limit:
            return False
        self.times.append(now)
        return True


class Supervisor:
    """Restarts the session's Asterisk and staff phone when they exit."""

    def __init__(
        self,
        session: SandboxSession,
        *,
        say: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
        limit: int = 3,
        window_seconds: float = 60.0,
    ) -> None:
        self.session = session
        self.say = say
        self.clock = clock
        self.budgets = {
            name: RestartBudget(limit=limit, window_seconds=window_seconds)
            for name in ("Asterisk", "The agent's phone")
        }
        self.restarts = 0

    def check(self) -> None:
        """One round: restart whatever exited; ``SandboxError`` if it keeps exiting."""
        asterisk, agent = self.session.asterisk, self.session.agent
        if asterisk is not None:
            status = asterisk.exit_status()
            if status is not None:
                self._restart("Asterisk", status, asterisk.start)
        if agent is not None:
            status = agent.exit_status()
            if status is not None:
                self._restart("The agent's phone", status, agent.start)

    def _restart(self, name: str, status: int, start: Callable[[], None]) -> None:
        budget = self.budgets[name]
        if not budget.spend(self.clock()):
            raise SandboxError(
                f"{name} exited {budget.limit + 1} times within {budget.window_seconds:.0f} s "
                f"(last status {status}); giving up."
            )
        self.say(f"{name} exited with status {status}; restarting it.")
        start()
        self.restarts += 1
        self.say(f"{name} is running again.")


async def supervise(supervisor: Supervisor, *, interval_seconds: float = 1.0) -> None:
    """Check every ``interval_seconds`` until a process keeps dying (``SandboxError``)."""
    while True:
        await asyncio.to_thread(supervisor.check)
        await asyncio.sleep(interval_seconds)
