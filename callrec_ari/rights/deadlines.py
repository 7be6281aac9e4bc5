"""When a data-subject request must be answered: pure date rules, no I/O.

GDPR Art. 12(3) and seed 004: answer within 30 days of receipt; the deadline may be extended
once, by 60 more days, for a stated reason, and the person must be told of the extension
within the first period, so an overdue request can no longer be extended.

A deadline is the end of its day (23:59:59 UTC): a request received on 1 November is due on
1 December and late from 2 December on, as a person reading "due 1 December" expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from callrec_ari.config import LifecycleSettings
from callrec_ari.errors import InputError


@dataclass(frozen=True, kw_only=True)
class Deadlines:
    """How many days a request has, and how many an extension adds."""

    due_days: int = 30
    extension_days: int = 60

    @classmethod
    def from_settings(cls, settings: LifecycleSettings) -> Deadlines:
        """The configured deadlines (``[lifecycle]`` request_due_days, request_extension_days)."""
        return cls(
            due_days=settings.request_due_days, extension_days=settings.request_extension_days
        )

    def due(self, received: datetime) -> datetime:
        """The deadline of a request received at ``received``: the end of the last day."""
        return end_of_day(received + timedelta(days=self.due_days))

    def extended(self, due: datetime) -> datetime:
        """The deadline after the one extension."""
        return end_of_day(due + timedelta(days=self.extension_days))


def end_of_day(moment: datetime) -> datetime:
    """The last second of ``moment``'s day in UTC."""
    return datetime.combine(moment.astimezone(UTC).date(), time(23, 59, 59), tzinfo=UTC)


def check_received(received: datetime, now: datetime) -> datetime:
    """``received`` in UTC; ``InputError`` if it has no timezone or lies in the future."""
    if received.tzinfo is None:
        raise InputError(f"Received time {received.isoformat()} has no timezone.")
    if received > now:
        raise InputError(
            f"Received date {received.date().isoformat()} is in the future "
            f"(today is {now.date().isoformat()})."
        )
    return received.astimezone(UTC)


def is_overdue(due_at: datetime, now: datetime, *, open_: bool = True) -> bool:
    """Whether an open request has passed its deadline."""
    return open_ and now > due_at


def days_left(due_at: datetime, now: datetime) -> int:
    """Whole days until the deadline; negative once it has passed."""
    remaining = due_at - now
    return remaining.days
