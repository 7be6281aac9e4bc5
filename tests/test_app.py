"""The service app.py builds, with object storage: the store and its upload queue wired in."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from structlog.testing import capture_logs

from callrec_ari.app import EVENTS, UPLOADS, build_app
from callrec_ari.config import Settings
from callrec_ari.config.storage import StorageKind, StorageSettings
from tests.ari.fake_server import FakeAsterisk, Reply
from tests.support.metrics import Scrape
from tests.support.seaweedfs import TEST_BUCKET, SeaweedServer
from tests.test_housekeeping import health, service_settings


@pytest.fixture
async def fake_ari() -> AsyncIterator[FakeAsterisk]:
    """A fake Asterisk whose application holds no channel."""
    server = FakeAsterisk()
    server.reply("GET", "/ari/applications/callrec", Reply(json={"channel_ids": []}))
    server.reply("GET", "/ari/channels", Reply(json=[]))
    await server.start()
    yield server
    await server.stop()


def with_s3(settings: Settings, seaweed: SeaweedServer, tmp_path: Path) -> Settings:
    """``settings`` keeping finished recordings under a prefix of their own in the tests'
    bucket, retrying uploads quickly."""
    storage = StorageSettings(
        kind=StorageKind.S3,
        location="PL",
        s3=seaweed.settings(
            TEST_BUCKET, prefix=f"app-{secrets.token_hex(4)}/", timeout_seconds=1.0
        ),
        outbox_dir=tmp_path / "outbox",
        retry_min_seconds=0.05,
        retry_max_seconds=0.2,
    )
    return replace(settings, storage=storage)


async def health_within(client: TestClient, wanted: int, *, seconds: float) -> dict[str, object]:  # type: ignore[type-arg]
    """Poll ``/healthz`` until it answers ``wanted``; its body then."""
    async with asyncio.timeout(seconds):
        while True:
            status, body = await health(client)
            if status == wanted:
                return body
            await asyncio.sleep(0.1)


def stored_keys(seaweed: SeaweedServer, settings: Settings) -> list[str]:
    """The keys in the settings' bucket and prefix, as callrec names them."""
    assert settings.storage.s3 is not None
    prefix = settings.storage.s3.prefix
    listed = seaweed.client().list_objects_v2(Bucket=TEST_BUCKET, Prefix=prefix)
    return sorted(item["Key"].removeprefix(prefix) for item in listed.get("Contents", []))


async def test_with_an_s3_store_uploads_run_and_are_shown(
    database_url: str, fake_ari: FakeAsterisk, seaweed: SeaweedServer, tmp_path: Path
):
    """A sealed file handed to the queue reaches the bucket; /healthz shows uploads_pending
    and /metrics callrec_upload_backlog; an outage of the store keeps the file in the outbox,
    makes the uploads task failing, and once the store is back the upload completes."""
    settings = with_s3(service_settings(tmp_path, database_url, fake_ari.url), seaweed, tmp_path)
    app = build_app(settings)
    sealed = tmp_path / "1.wav.enc"
    with capture_logs():
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            await asyncio.wait_for(app[EVENTS].wait_connected(), 20)
            queue = app[UPLOADS]
            await asyncio.wait_for(queue.wait_idle(), 10)
            status, body = await health(client)
            assert (status, body["uploads_pending"]) == (200, 0)
            assert body["tasks"]["uploads"]["state"] == "running"

            sealed.write_bytes(b"CREC sealed bytes")
            await queue.add(sealed, "2026/12/02/1.wav.enc")
            await asyncio.wait_for(queue.wait_idle(), 10)
            assert stored_keys(seaweed, settings) == ["2026/12/02/1.wav.enc"]
            assert list((tmp_path / "outbox").iterdir()) == []

            seaweed.stop()
            try:
                sealed.write_bytes(b"CREC more sealed bytes")
                await queue.add(sealed, "2026/12/02/2.wav.enc")

                # Three failed rounds, each after the S3 client's own retries: seconds.
                body = await health_within(client, 503, seconds=60)
                assert body["tasks_failing"] == ["uploads"]
                assert body["uploads_pending"] == 1
                scrape = Scrape(await (await client.get("/metrics")).text())
                assert scrape.value("callrec_upload_backlog") == 1
            finally:
                seaweed.start()
            await asyncio.wait_for(queue.wait_idle(), 30)
            assert stored_keys(seaweed, settings) == [
                "2026/12/02/1.wav.enc",
                "2026/12/02/2.wav.enc",
            ]
            status, body = await health(client)
            assert body["uploads_pending"] == 0


async def test_with_the_local_default_nothing_is_uploaded(
    database_url: str, fake_ari: FakeAsterisk, tmp_path: Path
):
    """kind = "local": no upload task, no outbox, nothing about uploads on /healthz."""
    app = build_app(service_settings(tmp_path, database_url, fake_ari.url))
    with capture_logs():
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            await asyncio.wait_for(app[EVENTS].wait_connected(), 20)
            _, body = await health(client)
    assert UPLOADS not in app
    assert "uploads_pending" not in body
    assert "uploads" not in body["tasks"]
    assert not (tmp_path / "outbox").exists()
