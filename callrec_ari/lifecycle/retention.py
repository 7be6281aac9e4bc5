"""Retention rules: pure functions on dates and policies, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from callrec_ari.config import RetentionPolicy
from callrec_ari.errors import InputError


def delete_after(started_at: datetime, policy: RetentionPolicy) -> datetime:
    """When a call started at ``started_at`` under ``policy`` is due for deletion."""
    return started_at + timedelta(days=policy.days)


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
    return now - timedelta(days=policy.days)


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
