"""The metrics the code updates: calls by outcome, ARI latency by route, the loop's lag."""

from __future__ import annotations

import dataclasses

from prometheus_client import generate_latest

from callrec_ari.metrics import Metrics
from callrec_ari.records import Consent, RecordingStatus
from tests.db.records import finished, ringing
from tests.support.metrics import Scrape


def scrape(metrics: Metrics) -> Scrape:
    return Scrape(generate_latest(metrics.registry).decode())


def test_calls_are_counted_by_consent_and_recording_status():
    """Each finished call adds one to its own outcome's series, and only to that one."""
    metrics = Metrics()
    recorded = finished(ringing("1795514341.6"))
    declined = dataclasses.replace(
        recorded,
        uniqueid="1795514342.7",
        consent=Consent.DECLINED,
        recording_status=RecordingStatus.NONE,
    )
    for record in (recorded, declined, dataclasses.replace(recorded, uniqueid="1795514343.8")):
        metrics.call_finished(record)
    seen = scrape(metrics)
    assert seen.value("callrec_calls_total", consent="given", recording="complete") == 2
    assert seen.value("callrec_calls_total", consent="declined", recording="none") == 1
    assert seen.total("callrec_calls_total") == 3


def test_every_consent_outcome_can_be_counted():
    """Labels come from the enums, so an outcome added to ``Consent`` is counted unchanged."""
    metrics = Metrics()
    for consent in Consent:
        metrics.call_finished(dataclasses.replace(ringing(), consent=consent))
    seen = scrape(metrics)
    for consent in Consent:
        assert seen.value("callrec_calls_total", consent=consent.value, recording="none") == 1


def test_ari_latency_is_kept_per_route_template_without_ids():
    """Two channels' answers share one series named by the template; the ids appear nowhere."""
    metrics = Metrics()
    metrics.ari_request("POST", "/channels/{}/answer", 0.004)
    metrics.ari_request("POST", "/channels/{}/answer", 0.3)
    metrics.ari_request("POST", "/channels/{}/play/{}", 0.002)
    seen = scrape(metrics)
    answer = {"method": "POST", "route": "/channels/{id}/answer"}
    assert seen.value("callrec_ari_request_duration_seconds_count", **answer) == 2
    assert seen.value("callrec_ari_request_duration_seconds_sum", **answer) == 0.304
    assert seen.value("callrec_ari_request_duration_seconds_bucket", le="0.005", **answer) == 1
    play = {"method": "POST", "route": "/channels/{id}/play/{id}"}
    assert seen.value("callrec_ari_request_duration_seconds_count", **play) == 1


def test_two_services_in_one_process_keep_their_own_counts():
    """Each ``Metrics`` has a registry of its own: nothing collides, nothing is shared."""
    first, second = Metrics(), Metrics()
    first.call_finished(finished(ringing()))
    first.loop_lag(0.01)
    assert scrape(first).total("callrec_calls_total") == 1
    assert scrape(second).total("callrec_calls_total") == 0
    assert scrape(second).value("callrec_event_loop_lag_seconds_count") == 0


def test_the_standard_process_metrics_are_there():
    """CPU, memory and open files of the service's process, as prometheus-client measures them."""
    seen = scrape(Metrics())
    assert seen.value("process_resident_memory_bytes") > 0  # type: ignore[operator]
    assert "python_info" in seen.types
