"""Retention in calendar months: never longer than the months the policy says (seed 003 §12)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from callrec_ari.config import RetentionPolicy
from callrec_ari.lifecycle.retention import add_months, delete_after, started_by

SIX = RetentionPolicy(name="months-6", months=6)
THREE = RetentionPolicy(name="months-3", months=3)
END_OF_DAY = (23, 59, 59, 999999)


def at(year, month, day, *time):
    """An aware UTC time."""
    return datetime(year, month, day, *time, tzinfo=UTC)


def test_a_call_on_31_august_is_deleted_by_28_february():
    """The issue's case: 6 months from 31 August end with 28 February, not in March."""
    due = delete_after(at(2026, 8, 31, 10, 15), SIX)
    assert due == at(2027, 2, 28, *END_OF_DAY)


def test_in_a_leap_year_the_end_is_29_february():
    """From 31 August 2027 the sixth month is February 2028, which has 29 days."""
    assert delete_after(at(2027, 8, 31, 10, 15), SIX) == at(2028, 2, 29, *END_OF_DAY)


def test_a_call_on_29_february_is_due_on_29_august():
    """A leap day start has its day in August: same day, same time."""
    assert delete_after(at(2028, 2, 29, 8, 0), SIX) == at(2028, 8, 29, 8, 0)


def test_30_november_plus_three_months_is_the_end_of_february():
    """30 November + 3 months: February has no 30th, so the end of its last day."""
    assert delete_after(at(2026, 11, 30, 9, 0), THREE) == at(2027, 2, 28, *END_OF_DAY)


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (at(2026, 1, 31, 12), at(2026, 7, 31, 12)),  # July has a 31st
        (at(2026, 3, 31, 12), at(2026, 9, 30, *END_OF_DAY)),  # September has not
        (at(2026, 12, 31, 23, 59), at(2027, 6, 30, *END_OF_DAY)),  # across the year end
        (at(2026, 6, 30, 12), at(2026, 12, 30, 12)),  # a month end that is not the longest
        (at(2026, 9, 1, 0, 0), at(2027, 3, 1, 0, 0)),  # first of the month
    ],
)
def test_month_ends(start, due):
    """Month ends: the same day where it exists, else the end of the shorter month."""
    assert delete_after(start, SIX) == due


def test_the_period_is_never_longer_than_the_months():
    """Never later than the last day of the target month, for every day of a leap year."""
    start = at(2027, 1, 1, 13, 30)
    while start.year < 2029:
        due = delete_after(start, SIX)
        first_of_next = add_months(start.replace(day=1), 7).replace(hour=0, minute=0)
        assert due < first_of_next
        assert due >= start + timedelta(days=181)  # and never shorter than six months
        start += timedelta(days=1)


def test_a_later_start_is_never_due_earlier():
    """Ordering: 30 August 11:00 is not due before 29 August 13:00, nor any pair anywhere."""
    assert delete_after(at(2026, 8, 30, 11), SIX) >= delete_after(at(2026, 8, 29, 13), SIX)
    rng = random.Random(11)  # noqa: S311 - reproducible samples, not secrets
    base = at(2026, 1, 1)
    for _ in range(5000):
        first = base + timedelta(minutes=rng.randrange(0, 3 * 366 * 24 * 60))
        second = first + timedelta(minutes=rng.randrange(0, 5 * 24 * 60))
        assert delete_after(first, SIX) <= delete_after(second, SIX)


@pytest.mark.parametrize("policy", [SIX, THREE, RetentionPolicy(name="m1", months=1)])
def test_started_by_agrees_with_delete_after(policy):
    """The purge's column comparison picks exactly the calls that are due, month ends too."""
    rng = random.Random(3)  # noqa: S311 - reproducible samples, not secrets
    base = at(2026, 1, 1)
    nows = [at(2027, 2, 28, *END_OF_DAY), at(2027, 3, 1), at(2027, 8, 31, 12), at(2028, 2, 29, 5)]
    nows += [
        base + timedelta(minutes=rng.randrange(400 * 24 * 60, 800 * 24 * 60)) for _ in range(40)
    ]
    for now in nows:
        limit = started_by(now, policy)
        near = [limit, limit + timedelta(microseconds=1), limit - timedelta(microseconds=1)]
        days_back = [
            now - timedelta(days=d, minutes=rng.randrange(0, 1440)) for d in range(0, 400, 3)
        ]
        for start in near + days_back:
            assert (delete_after(start, policy) <= now) == (start <= limit), (now, start)


def test_a_months_policy_counts_31_days_a_month_for_orphans():
    """An orphaned file is removed only after the longest a months policy could keep it."""
    assert SIX.longest_days == 186
    assert RetentionPolicy(name="d", days=7).longest_days == 7


def test_a_policy_has_days_or_months_never_both():
    """Neither or both is refused when the policy is made."""
    with pytest.raises(ValueError, match="days or months"):
        RetentionPolicy(name="x")
    with pytest.raises(ValueError, match="days or months"):
        RetentionPolicy(name="x", days=1, months=1)
