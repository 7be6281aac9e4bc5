"""The metrics the code updates as things happen: calls finished, ARI latency, loop lag."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)

from callrec_ari.metrics.readings import Readings
from callrec_ari.records import CallRecord, Consent, RecordingStatus

# Asterisk answers a local REST request in a few milliseconds; seconds mean it is struggling.
ARI_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# A timer firing a millisecond late is normal; a tenth of a second delays every call.
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """The service's metrics on a registry of its own; ``readings`` is filled in by the app."""

    def __init__(self) -> None:
        # Otherwise the text format adds a ``_created`` gauge beside every counter and
        # histogram series, doubling the answer for a value no dashboard reads. The switch is
        # the library's, process-wide; callrec's process has no other metrics.
        disable_created_metrics()  # type: ignore[no-untyped-call]  # unannotated upstream
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.readings = Readings()
        self.registry.register(self.readings)
        self._calls = Counter(
            "callrec_calls",
            "Calls whose row became final (ended, recording settled), by consent outcome and "
            "recording status.",
            ["consent", "recording"],
            registry=self.registry,
        )
        self._ari = Histogram(
            "callrec_ari_request_duration_seconds",
            "Time from sending an ARI REST request to its answer (or failure), by method and "
            "route template.",
            ["method", "route"],
            buckets=ARI_BUCKETS,
            registry=self.registry,
        )
        self._lag = Histogram(
            "callrec_event_loop_lag_seconds",
            "How late a task sleeping a quarter of a second woke: time the event loop was too "
            "busy to run a task that was ready.",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        # Children looked up once per label combination, not per call or request.
        self._call_children: dict[tuple[Consent, RecordingStatus], Counter] = {}
        self._ari_children: dict[tuple[str, str], Histogram] = {}

    def call_finished(self, record: CallRecord) -> None:
        """Count a call whose row is final; call it once per call."""
        key = (record.consent, record.recording_status)
        child = self._call_children.get(key)
        if child is None:
            child = self._calls.labels(consent=key[0].value, recording=key[1].value)
            self._call_children[key] = child
        child.inc()

    def ari_request(self, method: str, route: str, seconds: float) -> None:
        """Observe one ARI request; ``route`` is its template, ``{}`` standing for each id."""
        child = self._ari_children.get((method, route))
        if child is None:
            child = self._ari.labels(method=method, route=route.replace("{}", "{id}"))
            self._ari_children[method, route] = child
        child.observe(seconds)

    def loop_lag(self, seconds: float) -> None:
        """Observe one measurement of the event loop's lag."""
        self._lag.observe(seconds)
