"""``callrec health``: what a container's HEALTHCHECK or a monitoring script gets."""

from __future__ import annotations

import asyncio
import contextlib
import io
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from aiohttp import web

from callrec_ari.__main__ import main
from callrec_ari.config import ServiceSettings
from callrec_ari.health import health_url
from callrec_ari.health import main as health_main
from tests.support.postgres import free_port

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"
EVERY_ADDRESS = "0.0.0.0"  # noqa: S104 - a config value under test; the test binds loopback only


def config_on(tmp_path: Path, host: str, port: int) -> Path:
    """The example config with [service] at ``host:port``."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["service"].update(host=host, port=port)
    data["log"]["level"] = "warning"
    path = tmp_path / "config.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


async def health(config: Path) -> tuple[int, str, str]:
    """Run ``callrec health`` (off the loop that serves); status, stdout, stderr."""

    def run() -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(["health", "-c", str(config), "--timeout", "2"])
        return status, out.getvalue(), err.getvalue()

    return await asyncio.to_thread(run)


@pytest.fixture
async def service() -> AsyncIterator[tuple[int, dict[str, Any]]]:
    """A stand-in /healthz on loopback answering the status and body the test puts in."""
    answer: dict[str, Any] = {"status": 200, "body": {}}

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response(answer["body"], status=answer["status"])

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield port, answer
    await runner.cleanup()


@pytest.mark.parametrize(
    ("host", "url"),
    [
        (EVERY_ADDRESS, "http://127.0.0.1:8089/healthz"),
        ("::", "http://[::1]:8089/healthz"),
        ("192.0.2.7", "http://192.0.2.7:8089/healthz"),
    ],
)
def test_a_wildcard_host_is_asked_on_loopback(host, url):
    """The service listening on every address is reached on loopback from inside."""
    assert health_url(ServiceSettings(host=host, port=8089)) == url


async def test_a_healthy_service_is_exit_status_0(service, tmp_path):
    """200 from /healthz: status 0 and one line on stdout."""
    port, answer = service
    answer["body"] = {"ari_connected": True, "calls_in_progress": 2, "tasks_failing": []}
    status, out, err = await health(config_on(tmp_path, EVERY_ADDRESS, port))
    assert (status, out, err) == (0, "healthy: ARI connected, 2 calls in progress\n", "")


async def test_an_unhealthy_service_says_why(service, tmp_path):
    """503: status 1 and what /healthz named, ARI and the failing tasks."""
    port, answer = service
    answer.update(status=503, body={"ari_connected": False, "tasks_failing": ["purge"]})
    status, out, err = await health(config_on(tmp_path, "127.0.0.1", port))
    assert (status, out) == (1, "")
    assert err == "unhealthy (503): Asterisk's ARI is not connected; failing: purge\n"


async def test_nothing_listening_is_one_sentence(tmp_path):
    """No service on the port: status 1 and one line naming the URL."""
    port = free_port()
    status, out, err = await health(config_on(tmp_path, "127.0.0.1", port))
    assert (status, out) == (1, "")
    assert err.startswith(f"callrec: nothing healthy answers http://127.0.0.1:{port}/healthz (")
    assert err.count("\n") == 1


async def test_callrec_health_alone_answers_the_same(service, tmp_path):
    """``callrec-health`` (the image's HEALTHCHECK) gives the same line and status."""
    port, answer = service
    answer["body"] = {"ari_connected": True, "calls_in_progress": 0, "tasks_failing": []}
    config = config_on(tmp_path, "127.0.0.1", port)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = await asyncio.to_thread(health_main, ["-c", str(config)])
    assert (status, out.getvalue()) == (0, "healthy: ARI connected, 0 calls in progress\n")


def test_callrec_health_alone_names_a_missing_config(tmp_path, capsys):
    """No config: exit status 2 and callrec's one sentence."""
    assert health_main(["-c", str(tmp_path / "nothing.toml")]) == 2
    assert (
        capsys.readouterr().err
        == f"callrec: Config file {tmp_path / 'nothing.toml'} does not exist.\n"
    )
