"""When callrec cannot keep up, new calls go through unrecorded at once (issue 13 §2).

A caller must never wait seconds for callrec. At each new call the controller asks
``Admission.admit`` whether the service is keeping up; if not, the call is connected
unrecorded straight away with the consent outcome ``overloaded`` (fail-open, as when the
service is down) and calls already in the consent step go on as usual. Four signs, each
compared with its limit in ``[overload]`` (``config/overload.py``):

``event_delay``
    How late the call's StasisStart reached the flow: its age (now minus Asterisk's own
    timestamp) above the smallest age seen in the last ten minutes, which absorbs a constant
    clock difference between the two machines. It grows whether the event loop, the socket
    or Asterisk's own event dispatch is behind: the end-to-end sign.
``loop_lag``
    How late a task that only sleeps woke up (``metrics/loop_lag.py``, every 0.25 s): the
    smallest of its last three wake-ups, so only a loop that stays behind counts. A single
    stall (a busy neighbour process, a garbage collection) delays the calls that arrive
    during it, and ``event_delay`` sees those one by one.
``ari_latency``
    ARI REST round trips, smoothed over the last few dozen requests: Asterisk itself
    struggling.
``calls_in_consent``
    Calls in the consent step at once, when ``max_calls_in_consent`` is set.

A late StasisStart sheds its own call: that caller has waited already. Once a sign lasts (calls
late for ``PERSIST_SECONDS`` in a row, or a sustained sign: loop lag, ARI latency, calls in
consent) the service sheds every new call for ``hold_seconds`` more, so it does not flap
between shedding and admitting on every other call. A burst of late events after one short
stall does not start the hold: shedding two seconds of callers (sixty at 30 calls/s) who
would not have waited would be a poor trade for a blip that is already over, measured on the
benchmark (README, Performance). Pure: times come from outside.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

from callrec_ari.config.overload import OverloadLimits

_SMOOTHING = 0.1  # weight of the newest ARI round trip: about the last 20 requests count
_FLOOR_WINDOW_SECONDS = 600.0
_FLOOR_BUCKET_SECONDS = 10.0
_LAG_SAMPLES = 3  # loop lag counts once it was seen at this many wake-ups in a row
PERSIST_SECONDS = 0.5  # late StasisStarts for this long in a row start the hold


class Sign(enum.StrEnum):
    """What showed that the service is not keeping up."""

    EVENT_DELAY = "event_delay"
    LOOP_LAG = "loop_lag"
    ARI_LATENCY = "ari_latency"
    CALLS_IN_CONSENT = "calls_in_consent"


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """``admit``'s answer for a call that must not wait: the sign and what was measured."""

    sign: Sign
    measured: float
    limit: float

    @property
    def described(self) -> str:
        """One line for the call's evidence and the log."""
        unit = "" if self.sign == Sign.CALLS_IN_CONSENT else " s"
        return (
            f"callrec was overloaded ({self.sign}: {self.measured:.3f}{unit} over "
            f"{self.limit:g}{unit}): connected unrecorded at once"
        )


class Admission:
    """Decides, call by call, whether the service keeps up; fed with measurements."""

    def __init__(self, limits: OverloadLimits) -> None:
        self.limits = limits
        self.shed = 0  # calls connected unrecorded because of overload, since start
        self._ari_latency = 0.0
        self._loop_lags: deque[float] = deque(maxlen=_LAG_SAMPLES)
        self._late_since: float | None = None  # first late call of the current run of them
        self._floors: deque[tuple[float, float]] = deque()  # (bucket start, smallest age)
        self._hold_until = float("-inf")
        self._last: Verdict | None = None

    @property
    def ari_latency(self) -> float:
        """The smoothed ARI round trip, in seconds."""
        return self._ari_latency

    def note_ari_latency(self, seconds: float) -> None:
        """One ARI request took ``seconds``."""
        self._ari_latency += _SMOOTHING * (seconds - self._ari_latency)

    def note_loop_lag(self, seconds: float) -> None:
        """The event loop's latest lag."""
        self._loop_lags.append(seconds)

    @property
    def loop_lag(self) -> float:
        """The lag the loop kept over its last few wake-ups (0 until it has woken that often)."""
        if len(self._loop_lags) < _LAG_SAMPLES:
            return 0.0
        return min(self._loop_lags)

    def shedding(self, now: float) -> bool:
        """Whether new calls would be shed at monotonic time ``now`` whatever their event's
        age: still within ``hold_seconds`` of a sign, or the loop or ARI over its limit. With
        several instances, one that is shedding leaves the call to another (``ha/claims.py``)."""
        return now < self._hold_until or self._over_limit(0.0, 0) is not None

    def admit(self, *, now: float, event_age: float, in_consent: int) -> Verdict | None:
        """None if a call whose StasisStart is ``event_age`` seconds old may go through the
        consent step at monotonic time ``now``, with ``in_consent`` calls there already; else
        why it must be connected unrecorded at once."""
        delay = event_age - self._floor(now, event_age)
        verdict = self._over_limit(delay, in_consent)
        if verdict is None:
            self._late_since = None  # an on-time call ends a run of late ones
            if now < self._hold_until:
                verdict = self._last
        elif self._lasting(verdict, now):
            self._hold_until = now + self.limits.hold_seconds
            self._last = verdict
        if verdict is not None:
            self.shed += 1
        return verdict

    def _lasting(self, verdict: Verdict, now: float) -> bool:
        """Whether ``verdict`` shows a lasting overload (start the hold) rather than one late
        call (shed it alone)."""
        if verdict.sign != Sign.EVENT_DELAY:
            self._late_since = None
            return True  # sustained by construction: a smoothed or repeated measure, a count
        if self._late_since is None:
            self._late_since = now
        return now - self._late_since >= PERSIST_SECONDS

    def _over_limit(self, delay: float, in_consent: int) -> Verdict | None:
        limits = self.limits
        if not limits.enabled:
            return None
        checks = (
            (Sign.EVENT_DELAY, delay, limits.event_delay_seconds),
            (Sign.LOOP_LAG, self.loop_lag, limits.loop_lag_seconds),
            (Sign.ARI_LATENCY, self._ari_latency, limits.ari_latency_seconds),
            # This call included: room for max_calls_in_consent, not one more.
            (Sign.CALLS_IN_CONSENT, float(in_consent + 1), float(limits.max_calls_in_consent)),
        )
        for sign, measured, limit in checks:
            if limit > 0 and measured > limit:
                return Verdict(sign=sign, measured=measured, limit=limit)
        return None

    def _floor(self, now: float, age: float) -> float:
        """The smallest event age of the last ten minutes, this one included."""
        bucket = now - now % _FLOOR_BUCKET_SECONDS
        if self._floors and self._floors[-1][0] == bucket:
            self._floors[-1] = (bucket, min(self._floors[-1][1], age))
        else:
            self._floors.append((bucket, age))
        while self._floors[0][0] < now - _FLOOR_WINDOW_SECONDS:
            self._floors.popleft()
        return min(floor for _, floor in self._floors)
