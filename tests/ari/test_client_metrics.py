"""The ARI client times every request by method and route template, ids left out."""

from __future__ import annotations

import aiohttp
import pytest
from prometheus_client import generate_latest

from callrec_ari.ari.client import AriClient
from callrec_ari.config import AriSettings
from callrec_ari.errors import AriUnavailableError, ChannelGoneError
from callrec_ari.metrics import Metrics
from tests.ari.conftest import ari_settings
from tests.ari.fake_server import FakeAsterisk, Reply
from tests.support.metrics import Scrape

CHANNEL = "1795514341.6"
COUNT = "callrec_ari_request_duration_seconds_count"
SUM = "callrec_ari_request_duration_seconds_sum"


def scrape(metrics: Metrics) -> Scrape:
    return Scrape(generate_latest(metrics.registry).decode())


async def test_each_request_is_timed_under_its_route(
    session: aiohttp.ClientSession, settings: AriSettings, fake_ari: FakeAsterisk
):
    """Answers, a slow playback and a channel already gone are all timed; no id in a label."""
    fake_ari.reply("POST", f"/ari/channels/{CHANNEL}/play/consent-1", Reply(delay=0.2))
    fake_ari.reply("DELETE", "/ari/channels/1795514399.9", Reply(status=404))
    metrics = Metrics()
    client = AriClient(session, settings, metrics=metrics)
    await client.answer(CHANNEL)
    await client.answer("1795514342.7")
    await client.play(CHANNEL, ["sound:beep"], language="en", playback_id="consent-1")
    with pytest.raises(ChannelGoneError):
        await client.hangup("1795514399.9")
    seen = scrape(metrics)
    assert seen.value(COUNT, method="POST", route="/channels/{id}/answer") == 2
    assert seen.value(COUNT, method="POST", route="/channels/{id}/play/{id}") == 1
    assert seen.value(SUM, method="POST", route="/channels/{id}/play/{id}") >= 0.2  # type: ignore[operator]
    assert seen.value(COUNT, method="DELETE", route="/channels/{id}") == 1
    assert not any("1795514" in value or "consent" in value for value in seen.label_values())


async def test_a_request_asterisk_never_answers_is_timed_too(
    session: aiohttp.ClientSession, dead_url: str
):
    """An unreachable Asterisk shows in the histogram as well as in the error."""
    metrics = Metrics()
    client = AriClient(session, ari_settings(dead_url), metrics=metrics)
    with pytest.raises(AriUnavailableError):
        await client.info()
    assert scrape(metrics).value(COUNT, method="GET", route="/asterisk/info") == 1
