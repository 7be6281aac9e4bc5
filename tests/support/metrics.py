"""Reading a /metrics answer the way Prometheus does: the text parsed into metric families."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

# Every metric the README documents, with its type as the exposition declares it.
DOCUMENTED = {
    "callrec_calls": "counter",
    "callrec_calls_in_flight": "gauge",
    "callrec_events_pending": "gauge",
    "callrec_event_loop_lag_seconds": "histogram",
    "callrec_ari_request_duration_seconds": "histogram",
    "callrec_ari_reconnects": "counter",
    "callrec_ari_connected": "gauge",
    "callrec_db_writer_backlog": "gauge",
    "callrec_journal_lag_seconds": "gauge",
    "callrec_purge_last_success_timestamp_seconds": "gauge",
    "callrec_retention_overdue_calls": "gauge",
    "callrec_duty_failures": "counter",
    "callrec_duty_failing": "gauge",
}


class Scrape:
    """One scrape's samples, by metric family."""

    def __init__(self, text: str) -> None:
        self.types: dict[str, str] = {}
        self.samples: list[Sample] = []
        for family in text_string_to_metric_families(text):
            self.types[family.name] = family.type
            self.samples.extend(family.samples)

    def value(self, name: str, **labels: str) -> float | None:
        """The sample ``name`` with exactly these labels, or ``None`` if there is none."""
        found = [s.value for s in self.samples if s.name == name and s.labels == labels]
        return found[0] if found else None

    def total(self, name: str, **labels: str) -> float:
        """The sum of the samples ``name`` whose labels include these."""
        return sum(
            s.value for s in self.samples if s.name == name and labels.items() <= s.labels.items()
        )

    def label_values(self) -> set[str]:
        """Every label value in the scrape."""
        return {value for s in self.samples for value in s.labels.values()}
