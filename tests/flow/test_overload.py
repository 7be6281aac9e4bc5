"""Shedding new calls when callrec cannot keep up (issue 13 §2): the admission rules, pure."""

from __future__ import annotations

import pytest

from callrec_ari.config.overload import OverloadLimits
from callrec_ari.flow.overload import Admission, Sign


def admission(**limits: float) -> Admission:
    return Admission(OverloadLimits(**limits))  # type: ignore[arg-type]


def test_a_service_keeping_up_admits_every_call():
    """Events on time, no lag, quick ARI: nothing is shed."""
    gate = admission()
    gate.note_ari_latency(0.004)
    gate.note_loop_lag(0.002)
    for n in range(100):
        assert gate.admit(now=n * 0.1, event_age=0.003, in_consent=40) is None
    assert gate.shed == 0


def test_a_late_stasis_start_sheds_its_own_call_only():
    """A StasisStart 0.8 s late sheds that call (its caller has waited); a burst of late ones
    from one short stall sheds those, and the next call on time is admitted at once."""
    gate = admission(event_delay_seconds=0.5, hold_seconds=2.0)
    assert gate.admit(now=0.0, event_age=0.01, in_consent=0) is None
    verdict = gate.admit(now=1.0, event_age=0.81, in_consent=0)
    assert verdict is not None
    assert verdict.sign == Sign.EVENT_DELAY
    assert verdict.measured == pytest.approx(0.8)
    assert "overloaded" in verdict.described
    for n in range(10):  # the rest of the burst, delivered within a few milliseconds
        assert gate.admit(now=1.0 + n * 0.001, event_age=0.7, in_consent=0) is not None
    assert gate.admit(now=1.02, event_age=0.01, in_consent=0) is None
    assert gate.shed == 11


def test_lateness_that_lasts_sheds_the_next_calls_for_a_while():
    """Calls late for half a second in a row start the hold: calls in the next two seconds
    are shed even on time, then the service admits again."""
    gate = admission(event_delay_seconds=0.5, hold_seconds=2.0)
    assert gate.admit(now=0.0, event_age=0.01, in_consent=0) is None
    for n in range(6):
        assert gate.admit(now=1.0 + n * 0.1, event_age=0.9, in_consent=0) is not None
    assert gate.admit(now=2.5, event_age=0.01, in_consent=0) is not None  # still held
    assert gate.admit(now=3.6, event_age=0.01, in_consent=0) is None
    assert gate.shed == 7


def test_a_constant_clock_difference_is_not_taken_for_delay():
    """Asterisk's clock 3 s behind ours makes every event look 3 s old: that is no delay."""
    gate = admission(event_delay_seconds=0.5)
    for n in range(50):
        assert gate.admit(now=n * 0.2, event_age=3.0 + (n % 3) * 0.01, in_consent=0) is None
    assert gate.admit(now=11.0, event_age=3.9, in_consent=0) is not None


def test_loop_lag_and_ari_latency_shed_too():
    """A lagging event loop, or Asterisk answering slowly, each shed the call."""
    lagging = admission(loop_lag_seconds=0.25)
    for _ in range(3):
        lagging.note_loop_lag(0.4)
    verdict = lagging.admit(now=0.0, event_age=0.0, in_consent=0)
    assert verdict is not None
    assert verdict.sign == Sign.LOOP_LAG
    slow = admission(ari_latency_seconds=0.5)
    for _ in range(40):
        slow.note_ari_latency(1.0)
    verdict = slow.admit(now=0.0, event_age=0.0, in_consent=0)
    assert verdict is not None
    assert verdict.sign == Sign.ARI_LATENCY


def test_one_stall_of_the_loop_does_not_shed():
    """A loop that stalled once (0.3 s) and then woke on time sheds nothing: only a lag seen
    at three wake-ups in a row counts."""
    gate = admission(loop_lag_seconds=0.25)
    for lag in (0.001, 0.3, 0.002, 0.001):
        gate.note_loop_lag(lag)
        assert gate.admit(now=0.0, event_age=0.0, in_consent=0) is None
    assert gate.loop_lag == pytest.approx(0.001)


def test_one_slow_ari_request_does_not_shed():
    """A single slow request among quick ones stays under the smoothed limit."""
    gate = admission(ari_latency_seconds=0.5)
    for _ in range(20):
        gate.note_ari_latency(0.005)
    gate.note_ari_latency(2.0)
    assert gate.admit(now=0.0, event_age=0.0, in_consent=0) is None


def test_calls_in_consent_limit_and_zero_means_off():
    """max_calls_in_consent sheds above it; 0 (the default) never does."""
    assert admission().admit(now=0.0, event_age=0.0, in_consent=10_000) is None
    assert admission(max_calls_in_consent=300).admit(now=0, event_age=0, in_consent=299) is None
    verdict = admission(max_calls_in_consent=300).admit(now=0.0, event_age=0.0, in_consent=300)
    assert verdict is not None
    assert verdict.sign == Sign.CALLS_IN_CONSENT


def test_disabled_admits_everything():
    """enabled = false: even a very late event goes through the consent step."""
    gate = Admission(OverloadLimits(enabled=False))
    gate.note_loop_lag(5.0)
    assert gate.admit(now=0.0, event_age=60.0, in_consent=0) is None


def test_shedding_says_whether_new_calls_would_be_shed_now():
    """Within the hold after a sign, or with the loop lagging, the service is shedding; once
    the hold is over and nothing is over its limit, it is not."""
    gate = admission(event_delay_seconds=0.5, hold_seconds=2.0, loop_lag_seconds=0.25)
    assert not gate.shedding(0.0)
    gate.admit(now=0.0, event_age=0.0, in_consent=0)
    gate.admit(now=1.0, event_age=0.9, in_consent=0)
    assert not gate.shedding(1.1)  # one late call: shed alone, no hold
    gate.admit(now=1.5, event_age=0.9, in_consent=0)
    assert gate.shedding(2.5)
    assert not gate.shedding(3.6)
    for _ in range(3):
        gate.note_loop_lag(0.3)
    assert gate.shedding(10.0)
