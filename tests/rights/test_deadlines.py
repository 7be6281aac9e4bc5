"""Deadline rules: 30 days from receipt, one 60-day extension, overdue after the deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callrec_ari.config import LifecycleSettings
from callrec_ari.errors import InputError
from callrec_ari.rights.deadlines import (
    Deadlines,
    check_received,
    days_left,
    is_overdue,
)

RECEIVED = datetime(2026, 11, 2, tzinfo=UTC)


def test_a_request_is_due_at_the_end_of_the_thirtieth_day_after_receipt():
    """The default rule of GDPR Art. 12(3); the time of receipt does not matter."""
    assert Deadlines().due(RECEIVED) == datetime(2026, 12, 2, 23, 59, 59, tzinfo=UTC)
    late_in_the_day = RECEIVED + timedelta(hours=23)
    assert Deadlines().due(late_in_the_day) == Deadlines().due(RECEIVED)


def test_the_extension_adds_sixty_days_to_the_deadline():
    """Extended once: the deadline moves 60 days later."""
    rules = Deadlines()
    assert rules.extended(rules.due(RECEIVED)) == datetime(2027, 1, 31, 23, 59, 59, tzinfo=UTC)


def test_the_configured_days_are_used():
    """[lifecycle] request_due_days and request_extension_days replace 30 and 60."""
    rules = Deadlines.from_settings(
        LifecycleSettings(request_due_days=14, request_extension_days=30)
    )
    assert rules.due(RECEIVED).date() == (RECEIVED + timedelta(days=14)).date()
    assert rules.extended(RECEIVED).date() == (RECEIVED + timedelta(days=30)).date()


def test_overdue_only_after_the_deadline_and_only_while_open():
    """On its last day a request is not late yet; a closed request is never late."""
    due = Deadlines().due(RECEIVED)
    assert not is_overdue(due, due)
    assert not is_overdue(due, due - timedelta(hours=23))
    assert is_overdue(due, due + timedelta(seconds=1))
    assert not is_overdue(due, due + timedelta(days=5), open_=False)


def test_days_left_counts_down_then_goes_negative():
    """Whole days to the deadline; -1 as soon as it has passed."""
    due = Deadlines().due(RECEIVED)
    assert days_left(due, due - timedelta(days=3, hours=2)) == 3
    assert days_left(due, due + timedelta(hours=1)) == -1


def test_a_received_date_in_the_future_is_refused():
    """A request cannot arrive after today."""
    with pytest.raises(InputError, match="in the future"):
        check_received(RECEIVED + timedelta(days=1), RECEIVED)
    assert check_received(RECEIVED, RECEIVED) == RECEIVED
