"""Retention rules: pure functions on dates and policies, no I/O.

A policy in calendar months ends, as EU Regulation 1182/71 Art. 3(2)(c) counts periods, on
the day of the last month with the same number as the start (here at the same time of
day), or, when that month has no such day, at the end of its last day: a call on 31 August
kept 6 months is due by the end of 28 February (29 in a leap year), never later. The end of
the day, not the same time on it, keeps the order: a call on 30 August at 11:00 is never
due before one on 29 August at 13:00. Months are counted in UTC, as every stored time is.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from callrec_ari.config import RetentionPolicy
from callrec_ari.errors import InputError


def delete_after(started_at: datetime, policy: RetentionPolicy) -> datetime:
    """When a call started at ``started_at`` under ``policy`` is due for deletion."""
    if policy.days is not None:
        return started_at + timedelta(days=policy.days)
    return add_months(started_at, policy.months or 0)


def _shift(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _month_end(year: int, month: int, like: datetime) -> datetime:
    """The last microsecond of the month, in ``like``'s time zone."""
    last = calendar.monthrange(year, month)[1]
    return like.replace(
        year=year, month=month, day=last, hour=23, minute=59, second=59, microsecond=999999
    )


def add_months(start: datetime, months: int) -> datetime:
    """``start`` plus ``months`` calendar months: the same day and time, or the end of the
    target month when it is shorter (see the module docstring)."""
    year, month = _shift(start.year, start.month, months)
    if start.day > calendar.monthrange(year, month)[1]:
        return _month_end(year, month, start)
    return start.replace(year=year, month=month)


def policy_named(name: str, policies: Mapping[str, RetentionPolicy]) -> RetentionPolicy:
    """The configured policy called ``name``; ``InputError`` if the configuration has none."""
    try:
        return policies[name]
    except KeyError:
        known = ", ".join(sorted(policies)) or "none"
        raise InputError(
            f"Retention policy {name!r} is not in the configuration (known: {known})."
        ) from None


def effective_delete_after(
    stored: datetime | None,
    started_at: datetime,
    policy_name: str,
    policies: Mapping[str, RetentionPolicy],
) -> datetime:
    """A row's deletion date: the stored one, else computed from its policy's name.

    Rows stored before callrec kept retention dates have none; an unknown policy name on such
    a row raises ``InputError`` (the row is left alone, never deleted on a guess).
    """
    if stored is not None:
        return stored
    return delete_after(started_at, policy_named(policy_name, policies))


def started_by(now: datetime, policy: RetentionPolicy) -> datetime:
    """The latest start time at which a call under ``policy`` is due at ``now``.

    ``delete_after(started, policy) <= now`` exactly when ``started <= started_by(now, policy)``,
    which lets the database compare a column instead of doing date arithmetic.
    """
    if policy.days is not None:
        return now - timedelta(days=policy.days)
    year, month = _shift(now.year, now.month, -(policy.months or 0))
    if now.day > calendar.monthrange(year, month)[1] or now == _month_end(now.year, now.month, now):
        # Every start in that month is due by now: the short month's clamped days, or, at
        # the last instant of a month, the longer month's last days clamped onto it.
        return _month_end(year, month, now)
    return now.replace(year=year, month=month)


def orphan_time(path_day: datetime, modified: datetime) -> datetime:
    """How old an orphaned file counts as: its folder's day or its last change, the later.

    A file copied back into an old day folder yesterday is young; a file whose clock was
    wrong is still no older than the day it is filed under.
    """
    return max(path_day, modified)


def orphan_removable(file_time: datetime, now: datetime, longest_days: int) -> bool:
    """Whether an orphan is past the longest retention, so no policy could still want it."""
    return file_time <= now - timedelta(days=longest_days)


def modified_at(mtime: float) -> datetime:
    """A file's modification time (``st_mtime``) as an aware UTC timestamp."""
    return datetime.fromtimestamp(mtime, tz=UTC)
