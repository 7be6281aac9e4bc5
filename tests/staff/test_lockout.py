"""The lock-out rule: how many failures lock, and for how long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from callrec_ari.config import WebSettings
from callrec_ari.staff.lockout import Lockout, UnknownNames

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_the_rule_comes_from_the_web_settings():
    """``[web] lockout_after`` and ``lockout_minutes``."""
    web = WebSettings(secret_key_file=Path("key"), lockout_after=3, lockout_minutes=20)
    assert Lockout.from_settings(web) == Lockout(after=3, minutes=20)


def test_the_account_locks_at_the_nth_failure_in_a_row():
    """Failures below the limit only count; the one reaching it sets the end of the lock."""
    rule = Lockout(after=3, minutes=15)
    assert rule.failed(0, NOW) == (1, None)
    assert rule.failed(1, NOW) == (2, None)
    assert rule.failed(2, NOW) == (3, NOW + timedelta(minutes=15))


def test_a_lock_holds_until_its_end_and_not_after():
    """Locked up to the last moment; free from the stated time on; never locked without one."""
    rule = Lockout(after=5, minutes=15)
    until = NOW + timedelta(minutes=15)
    assert rule.is_locked(until, NOW)
    assert rule.is_locked(until, until - timedelta(microseconds=1))
    assert not rule.is_locked(until, until)
    assert not rule.is_locked(None, NOW)


def test_an_unknown_name_locks_after_as_many_failures_as_an_account():
    """Four failures of a name nobody has: not locked; the fifth locks it for the minutes."""
    names = UnknownNames()
    rule = Lockout(after=5, minutes=15)
    for _ in range(4):
        assert names.failed("nobody", NOW, rule) is None
    assert names.locked_until("nobody", NOW) is None
    assert names.failed("nobody", NOW, rule) == NOW + timedelta(minutes=15)
    assert names.locked_until("nobody", NOW + timedelta(minutes=14)) == NOW + timedelta(minutes=15)
    assert names.locked_until("nobody", NOW + timedelta(minutes=15)) is None


def test_an_unknown_name_counts_from_zero_after_its_lock():
    """A served lock is forgotten: four more failures do not lock again."""
    names = UnknownNames()
    rule = Lockout(after=5, minutes=15)
    for _ in range(5):
        names.failed("nobody", NOW, rule)
    later = NOW + timedelta(minutes=16)
    for _ in range(4):
        assert names.failed("nobody", later, rule) is None
    assert names.locked_until("nobody", later) is None


def test_a_flood_of_invented_names_is_bounded():
    """Only the most recent names are remembered; the oldest is forgotten first."""
    names = UnknownNames(capacity=3)
    rule = Lockout(after=1, minutes=15)
    for name in ("a", "b", "c", "d"):
        names.failed(name, NOW, rule)
    assert names.locked_until("a", NOW) is None
    assert names.locked_until("d", NOW) == NOW + timedelta(minutes=15)
