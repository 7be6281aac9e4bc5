"""Retention rules: deletion dates from policies, and how old an orphaned file counts as."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callrec_ari.errors import InputError
from callrec_ari.lifecycle.retention import (
    delete_after,
    effective_delete_after,
    modified_at,
    orphan_removable,
    orphan_time,
    policy_named,
    started_by,
)
from tests.db.records import T0
from tests.lifecycle.conftest import POLICIES


def test_delete_after_adds_the_policys_days():
    """A call kept 7 days is due 7 days after it started, to the microsecond."""
    assert delete_after(T0, POLICIES["days-7"]) == T0 + timedelta(days=7)


def test_a_stored_date_wins_over_the_policy():
    """A row's own delete_after is used as it is, even if its policy changed since."""
    stored = T0 + timedelta(days=1)
    assert effective_delete_after(stored, T0, "days-7", POLICIES) == stored
    assert effective_delete_after(stored, T0, "no-longer-configured", POLICIES) == stored


def test_a_row_without_a_date_gets_its_policys():
    """Rows from before dates were kept are due by their policy name."""
    assert effective_delete_after(None, T0, "months-6", POLICIES) == T0 + timedelta(days=183)


def test_an_unknown_policy_is_one_clear_error():
    """A name the configuration lacks is refused with the known names, never guessed."""
    with pytest.raises(InputError, match=r"^Retention policy 'years-10' is not in the config"):
        effective_delete_after(None, T0, "years-10", POLICIES)
    with pytest.raises(InputError, match="known: days-7, months-6"):
        policy_named("years-10", POLICIES)


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(microseconds=1), -timedelta(days=1)])
def test_started_by_agrees_with_delete_after(offset):
    """Comparing the start with started_by(now) says the same as delete_after <= now."""
    policy = POLICIES["days-7"]
    now = T0 + timedelta(days=7) + offset
    assert (started_by(now, policy) >= T0) == (delete_after(T0, policy) <= now)


def test_an_orphan_is_as_young_as_its_latest_sign_of_life():
    """The later of folder day and modification time counts, so copies back in stay young."""
    day = datetime(2026, 1, 5, tzinfo=UTC)
    recent = datetime(2026, 11, 1, tzinfo=UTC)
    assert orphan_time(day, recent) == recent
    assert orphan_time(day, datetime(2000, 1, 1, tzinfo=UTC)) == day


def test_an_orphan_goes_only_past_the_longest_retention():
    """183 days after its time an orphan may go; a microsecond earlier it may not."""
    day = datetime(2026, 1, 5, tzinfo=UTC)
    assert orphan_removable(day, day + timedelta(days=183), 183)
    assert not orphan_removable(day, day + timedelta(days=183, microseconds=-1), 183)


def test_modification_times_are_aware_utc():
    """st_mtime becomes an aware UTC timestamp."""
    assert modified_at(0.0) == datetime(1970, 1, 1, tzinfo=UTC)
