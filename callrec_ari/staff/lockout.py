"""Locking an account after failed sign-ins in a row: pure rules, no I/O."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from callrec_ari.config import WebSettings


@dataclass(frozen=True, kw_only=True)
class Lockout:
    """``after`` failures in a row lock the account for ``minutes``."""

    after: int
    minutes: int

    @classmethod
    def from_settings(cls, web: WebSettings) -> Lockout:
        """The lock-out configured in ``[web]``."""
        return cls(after=web.lockout_after, minutes=web.lockout_minutes)

    def failed(self, count_before: int, now: datetime) -> tuple[int, datetime | None]:
        """The failure count after one more failure, and when the lock ends if it locks now."""
        count = count_before + 1
        if count >= self.after:
            return count, now + timedelta(minutes=self.minutes)
        return count, None

    def is_locked(self, locked_until: datetime | None, now: datetime) -> bool:
        """Whether an account locked until ``locked_until`` is still locked at ``now``."""
        return locked_until is not None and now < locked_until


class UnknownNames:
    """Failures and locks of usernames no account has, kept in memory, so that an unknown
    name answers exactly as a known one would ("locked until ..." included) and the answers
    do not tell which names exist.

    At most ``capacity`` names are remembered; the longest unused is forgotten first, so a
    flood of invented names costs a bounded amount of memory.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._names: OrderedDict[str, tuple[int, datetime | None]] = OrderedDict()

    def locked_until(self, name: str, now: datetime) -> datetime | None:
        """When the lock of ``name`` ends, if it is locked at ``now``."""
        _, until = self._names.get(name, (0, None))
        return until if until is not None and now < until else None

    def failed(self, name: str, now: datetime, lockout: Lockout) -> datetime | None:
        """Count one failure of ``name`` as ``lockout`` would; when the lock ends if it
        locks now."""
        count, until = self._names.pop(name, (0, None))
        if until is not None and not lockout.is_locked(until, now):
            count = 0  # the lock was served: count from zero, as for an account
        count, locks = lockout.failed(count, now)
        self._names[name] = (count, locks or until)
        while len(self._names) > self._capacity:
            self._names.popitem(last=False)
        return locks
