"""Locking an account after failed sign-ins in a row: pure rules, no I/O."""

from __future__ import annotations

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
