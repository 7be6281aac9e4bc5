"""Serving the web app: HTTPS with a configured certificate, a loud warning without one on a
network address, and ``callrec web`` as its own process."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request

import aiohttp
import pytest
import tomli_w
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from structlog.testing import capture_logs

from callrec_ari.db.migrate import upgrade_to_head
from callrec_ari.errors import ConfigError
from callrec_ari.serve import Site, serve
from callrec_ari.web.app import build_web_app, tls_context
from tests.support.postgres import free_port
from tests.web.conftest import EXAMPLE, web_config


def self_signed(tmp_path):
    """A throwaway certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_with_a_certificate_the_app_speaks_https_only(tmp_path, database_url):
    """HTTPS with HSTS and a Secure cookie; plain HTTP on the same port gets nowhere."""
    (tmp_path / "recordings").mkdir()
    cert, key = self_signed(tmp_path)
    settings = web_config(
        tmp_path, database_url, tls_certificate=str(cert), tls_key=str(key), port=free_port()
    )
    stop = asyncio.Event()
    site = Site(
        name="web",
        app=build_web_app(settings),
        host="127.0.0.1",
        port=settings.web.port,
        ssl_context=tls_context(settings),
    )
    server = asyncio.create_task(serve([site], stop=stop))
    try:
        trust = ssl.create_default_context(cafile=str(cert))
        trust.check_hostname = False
        async with aiohttp.ClientSession() as http:
            for _ in range(50):
                try:
                    response = await http.get(
                        f"https://127.0.0.1:{settings.web.port}/login", ssl=trust
                    )
                    break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.1)
            assert response.status == 200
            assert response.headers["Strict-Transport-Security"].startswith("max-age=")
            assert "Secure" in response.headers["Set-Cookie"]
            with pytest.raises(aiohttp.ClientError):
                await http.get(f"http://127.0.0.1:{settings.web.port}/login")
    finally:
        stop.set()
        await server


def test_a_broken_certificate_is_one_sentence(tmp_path, database_url):
    """A key that is not a key stops start-up naming the files."""
    cert, _ = self_signed(tmp_path)
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    settings = web_config(tmp_path, database_url, tls_certificate=str(cert), tls_key=str(bad))
    with pytest.raises(ConfigError, match=r"cannot be used"):
        tls_context(settings)


ANY_ADDRESS = "0.0.0.0"  # noqa: S104 - only named to the check, never bound


@pytest.mark.parametrize(("host", "warned"), [(ANY_ADDRESS, True), ("127.0.0.1", False)])
def test_plain_http_on_a_network_address_is_loud(tmp_path, database_url, host, warned):
    """Passwords would cross the network in the clear: the log says so, loudly."""
    settings = web_config(tmp_path, database_url, host=host)
    with capture_logs() as logs:
        assert tls_context(settings) is None
    assert any(entry["event"] == "web.plain_http" for entry in logs) is warned


def test_callrec_web_runs_alone_and_stops_on_sigterm(tmp_path):
    """`callrec web` serves the sign-in page and exits cleanly when the service manager stops
    it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'callrec.sqlite3'}"
    upgrade_to_head(url)
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    port = free_port()
    data["database"]["url"] = url
    data["web"].update(port=port, secret_key_file=str(tmp_path / "web.key"))
    data["recording"] = {"asterisk_dir": "/srv/rec", "service_dir": str(tmp_path / "rec")}
    config = tmp_path / "callrec.toml"
    config.write_text(tomli_w.dumps(data), encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "callrec_ari", "web", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as page:
                    assert page.status == 200
                    assert b'name="password"' in page.read()
                break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, (
                    process.stderr.read().decode() if process.stderr else ""
                )
                assert time.monotonic() < deadline, "callrec web did not answer"
                time.sleep(0.2)
    finally:
        process.terminate()
        assert process.wait(20) == 0
