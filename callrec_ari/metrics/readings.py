"""Values read from the running service when Prometheus scrapes, never updated on the call path.

The app hands each object to ``Readings`` once it has built it; a source not built (or a
value not known yet, such as the time of a purge that has not run) leaves its metric out of
the answer rather than reporting a made-up zero.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

if TYPE_CHECKING:
    from callrec_ari.ari.events import EventStream
    from callrec_ari.db.writer import CallWriter
    from callrec_ari.flow.controller import CallController
    from callrec_ari.recording.seal import Sealer
    from callrec_ari.storage.uploads import UploadQueue
    from callrec_ari.supervision import Duties, TaskStatus


class Readings:
    """A Prometheus collector over the service's live objects."""

    def __init__(self) -> None:
        self.controller: CallController | None = None
        self.events: EventStream | None = None
        self.writer: CallWriter | None = None
        self.sealer: Sealer | None = None  # with [encryption] on
        self.uploads: UploadQueue | None = None  # with [storage] kind = "s3"
        self.duties: Duties | None = None
        self.purge: TaskStatus | None = None  # the service's purge duty, if it runs one
        self.overdue_calls: int | None = None  # the last count, refreshed by its own duty

    def overdue_counted(self, count: int) -> None:
        """The calls past their retention date, as just counted."""
        self.overdue_calls = count

    def collect(self) -> Iterator[Metric]:
        """Every metric whose source is known, read now."""
        if self.controller is not None:
            yield _gauge(
                "callrec_calls_in_flight",
                "Calls in progress, including those whose recording is being settled.",
                self.controller.active,
            )
            yield _gauge(
                "callrec_events_pending",
                "ARI events queued for their calls or being handled.",
                self.controller.events_pending,
            )
        if self.events is not None:
            yield _gauge(
                "callrec_ari_connected",
                "1 while the ARI event WebSocket is open.",
                self.events.connected,
            )
            yield CounterMetricFamily(
                "callrec_ari_reconnects",
                "ARI event WebSocket connections opened after the first one.",
                value=max(self.events.connections - 1, 0),
            )
        if self.writer is not None:
            yield _gauge(
                "callrec_db_writer_backlog",
                "Call snapshots not yet stored in the database (one per call).",
                self.writer.pending,
            )
            yield _gauge(
                "callrec_journal_lag_seconds",
                "How long the oldest snapshot written to the journal but not yet stored in the "
                "database has waited (0 when everything is stored).",
                self.writer.lag_seconds,
            )
        if self.sealer is not None:
            yield _gauge(
                "callrec_seal_backlog",
                "Closed recordings still plain on disk, waiting to be encrypted.",
                self.sealer.waiting,
            )
            yield CounterMetricFamily(
                "callrec_sealed_recordings",
                "Recordings encrypted since the service started.",
                value=self.sealer.sealed,
            )
        if self.uploads is not None:
            yield _gauge(
                "callrec_upload_backlog",
                "Sealed recording files in the outbox, not yet confirmed by the object store.",
                len(self.uploads.pending),
            )
        if self.duties is not None:
            yield from _duties(self.duties)
        if self.purge is not None and self.purge.last_success is not None:
            yield _gauge(
                "callrec_purge_last_success_timestamp_seconds",
                "When the service's purge last finished a run without error (Unix time).",
                self.purge.last_success.timestamp(),
            )
        if self.overdue_calls is not None:
            yield _gauge(
                "callrec_retention_overdue_calls",
                "Calls past their retention date that the purge has not deleted (legal holds "
                "and restrictions excluded), counted after each purge and every few minutes.",
                self.overdue_calls,
            )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


def _duties(duties: Duties) -> Iterator[Metric]:
    failing = GaugeMetricFamily(
        "callrec_duty_failing", "1 while the background duty is failing.", labels=["duty"]
    )
    failures = CounterMetricFamily(
        "callrec_duty_failures",
        "Failures of each background duty: kind=crash (it raised and was restarted) or "
        "kind=round (a round failed and was handled, e.g. the database was down).",
        labels=["duty", "kind"],
    )
    for name, status in sorted(duties.statuses.items()):
        failing.add_metric([name], float(status.failing))
        failures.add_metric([name, "crash"], status.crashes)
        failures.add_metric([name, "round"], status.rounds_failed)
    yield failing
    yield failures
