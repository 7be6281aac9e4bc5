"""Sign-in attempts per client address: a token bucket per address, pure, clock injected.

Each address may make ``burst`` attempts at once and then one every ``60 / per_minute``
seconds; an attempt beyond that is refused at once (429 with ``Retry-After``) and costs no
password hashing. One address flooding the sign-in form therefore cannot starve the
hashing threads for everyone else, and locking out other people's accounts (five failures
each) takes minutes per account instead of milliseconds.

Behind a reverse proxy every client shares the proxy's address; the web app is meant to be
reached directly (see the README).
"""

from __future__ import annotations

import math
from collections import OrderedDict


class AttemptBuckets:
    """Token buckets per key (a client address), at most ``capacity`` keys remembered."""

    def __init__(self, *, burst: int, per_minute: float, capacity: int = 10_000) -> None:
        self.burst = burst
        self.per_second = per_minute / 60
        self._capacity = capacity
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, now: float) -> int:
        """Take one attempt for ``key`` at ``now`` (seconds, monotonic): 0 if allowed,
        otherwise the whole seconds to wait before the next one is."""
        tokens, since = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - since) * self.per_second)
        if tokens >= 1:
            self._remember(key, tokens - 1, now)
            return 0
        self._remember(key, tokens, now)
        return max(1, math.ceil((1 - tokens) / self.per_second))

    def give_back(self, key: str) -> None:
        """Return the attempt ``key`` took (it signed in: a right password is no flood)."""
        if key in self._buckets:
            tokens, since = self._buckets[key]
            self._buckets[key] = (min(float(self.burst), tokens + 1), since)

    def _remember(self, key: str, tokens: float, now: float) -> None:
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self._capacity:
            # The longest unused first: a full bucket forgotten is no loss to anybody.
            self._buckets.popitem(last=False)
