"""The trail limiter: one entry per key and window, the rest counted and reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callrec_ari.trail_limit import TrailLimiter

T0 = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_the_first_event_is_written_and_a_flood_is_counted():
    """A thousand refusals in a minute make one entry; the next entry carries 999."""
    limiter = TrailLimiter(every=MINUTE)
    key = ("piotr", "not_found")
    assert limiter.admit(key, T0) == 0
    written = [limiter.admit(key, T0 + timedelta(milliseconds=n)) for n in range(1, 1000)]
    assert written == [None] * 999
    assert limiter.pending(key) == 999
    assert limiter.admit(key, T0 + MINUTE) == 999
    assert limiter.pending(key) == 0


def test_keys_are_limited_separately():
    """Another account, or another kind of refusal, is not held back by the first."""
    limiter = TrailLimiter(every=MINUTE)
    assert limiter.admit(("piotr", "not_found"), T0) == 0
    assert limiter.admit(("piotr", "forbidden"), T0) == 0
    assert limiter.admit(("ada", "not_found"), T0) == 0
    assert limiter.admit(("piotr", "not_found"), T0) is None


def test_the_window_starts_at_the_last_written_entry():
    """Just before the window ends: counted; at its end: written."""
    limiter = TrailLimiter(every=MINUTE)
    assert limiter.admit("k", T0) == 0
    assert limiter.admit("k", T0 + MINUTE - timedelta(microseconds=1)) is None
    assert limiter.admit("k", T0 + MINUTE) == 1
    assert limiter.admit("k", T0 + 2 * MINUTE + timedelta(seconds=1)) == 0


def test_memory_stays_bounded_without_losing_a_count():
    """Quiet keys are forgotten when there are too many; keys with counts are kept."""
    limiter = TrailLimiter(every=MINUTE, max_keys=10)
    limiter.admit("noisy", T0)
    limiter.admit("noisy", T0)
    for n in range(1, 51):  # a new key each minute: the older ones are over
        limiter.admit(f"quiet-{n}", T0 + n * MINUTE)
    assert len(limiter) <= 11
    assert limiter.pending("noisy") == 1
    assert limiter.admit("noisy", T0 + 60 * MINUTE) == 1


def test_a_window_must_be_positive():
    """A zero window would write everything: refused as a programming error."""
    with pytest.raises(ValueError, match="positive"):
        TrailLimiter(every=timedelta(0))
