"""Fixtures for the ARI layer: a fake Asterisk on a random local port and a client session."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from callrec_ari.ari.client import AriClient
from callrec_ari.config import AriSettings
from tests.ari.fake_server import FakeAsterisk

USERNAME = "callrec"
PASSWORD = "s3cret:with colon"
APP = "callrec"


def ari_settings(url: str, **options: float) -> AriSettings:
    """ARI settings for ``url`` with short timings; ``options`` override them."""
    timings = {
        "heartbeat_seconds": 5.0,
        "request_timeout_seconds": 2.0,
        "reconnect_min_seconds": 0.01,
        "reconnect_max_seconds": 0.05,
    } | options
    return AriSettings(url=url, username=USERNAME, password=PASSWORD, app=APP, **timings)


@pytest.fixture
async def fake_ari() -> AsyncIterator[FakeAsterisk]:
    """A fake Asterisk listening on 127.0.0.1, stopped after the test."""
    server = FakeAsterisk()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings(fake_ari: FakeAsterisk) -> AriSettings:
    """Settings pointing at the fake Asterisk."""
    return ari_settings(fake_ari.url)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The HTTP session the service would own, closed after the test."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def client(session: aiohttp.ClientSession, settings: AriSettings) -> AriClient:
    """The REST client under test, talking to the fake Asterisk."""
    return AriClient(session, settings)


@pytest.fixture
def dead_url() -> str:
    """The URL of a local port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
