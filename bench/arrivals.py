"""When each recording reached the object store: the bucket watched from beside the run.

A thread lists the bucket every ``interval`` seconds and notes the moment each key is first
seen; with the rows' end times this gives, per call, the time from hanging up to the
recording being playable from the store (sealed, uploaded, confirmed, the local copy gone:
the upload queue lists nothing before the store has it). Resolution: ``interval``.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

RECENT_SECONDS = 120  # calls looked for: those that started this long ago at most


class BucketWatch:
    """Notes when keys under ``prefix`` first appear in ``bucket``; ``stop()`` ends it."""

    def __init__(self, client: Any, bucket: str, prefix: str, interval: float = 0.05) -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = prefix
        self._interval = interval
        self.first_seen: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bucket-watch", daemon=True)

    def start(self) -> None:
        """Start watching."""
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (one last listing first)."""
        self._stop.set()
        self._thread.join(timeout=30)
        self._look()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._look()

    def _look(self) -> None:
        # Only the keys of calls that started in the last RECENT_SECONDS (a recording's key is
        # <day>/<uniqueid>..., and a uniqueid starts with its call's start in Unix seconds):
        # listing the whole growing bucket ten times a second took the benchmark itself a
        # good part of a core, from the two that Asterisk and callrec share.
        now = datetime.now(UTC)
        since = now - timedelta(seconds=RECENT_SECONDS)
        paginator = self._client.get_paginator("list_objects_v2")
        for day in sorted({since.strftime("%Y/%m/%d"), now.strftime("%Y/%m/%d")}):
            folder = f"{self._prefix}{day}/"
            pages = paginator.paginate(
                Bucket=self._bucket, Prefix=folder, StartAfter=f"{folder}{int(since.timestamp())}"
            )
            for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"].removeprefix(self._prefix)
                    self.first_seen.setdefault(key, now)


def playable_delays(
    watch: BucketWatch, ends: dict[str, datetime | None], *, suffix: str = ".enc"
) -> list[float]:
    """Seconds from each call's end to its mix's object being seen, for recordings seen."""
    delays = []
    for path, ended in ends.items():
        seen = watch.first_seen.get(path + suffix)
        if ended is not None and seen is not None:
            delays.append((seen - ended).total_seconds())
    return delays


def wait_for(watch: BucketWatch, keys: list[str], timeout: float = 60.0) -> None:
    """Wait until every key has been seen, or ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(k in watch.first_seen for k in keys):
        time.sleep(0.1)
