"""Request bodies: a large one is refused before it is read, unless a signed-in admin
uploads a prompt."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from callrec_ari.access import Role
from callrec_ari.web.limits import FORM_BYTES
from tests.prompts.conftest import make_tone
from tests.web.conftest import csrf, sign_in

NINETEEN_MB = 19 * 1024 * 1024


async def raw_post(
    client: TestClient[Any, Any], path: str, head: dict[str, str], body: bytes
) -> tuple[int, bytes]:
    """Send a POST's headers and only ``body`` of it, then read the answer's status line.

    The rest of the announced body is never sent: a server that waited for it would never
    answer (and the test's timeout would end it)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        lines = [f"POST {path} HTTP/1.1", f"Host: {client.host}:{client.port}"]
        lines += [f"{name}: {value}" for name, value in head.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        status_line = await reader.readline()
        answer = await reader.read(65536)
    finally:
        writer.close()
    return int(status_line.split()[1]), answer


async def test_an_oversized_anonymous_post_is_refused_from_its_length(client) -> None:
    """19 MB announced to /login: 413 at once, without waiting for a byte of the body."""
    status, _ = await asyncio.wait_for(
        raw_post(
            client,
            "/login",
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Content-Length": str(NINETEEN_MB),
            },
            b"",
        ),
        timeout=5,
    )
    assert status == 413


async def test_a_chunked_body_is_read_only_up_to_the_limit(client) -> None:
    """A chunked body with no length: 413 once the limit is passed, the rest never sent."""
    chunk = b"a" * 65536
    sent = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(FORM_BYTES // 65536 + 2))
    status, _ = await asyncio.wait_for(
        raw_post(
            client,
            "/login",
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Transfer-Encoding": "chunked",
            },
            sent,
        ),
        timeout=5,
    )
    assert status == 413


@pytest.mark.parametrize("path", ["/admin/prompts", "/api/admin/prompts"])
async def test_the_upload_limit_is_not_for_anonymous_posts(client, path) -> None:
    """Nobody signed in: the upload routes take no more than any form."""
    status, _ = await asyncio.wait_for(
        raw_post(
            client,
            path,
            {"Content-Type": "multipart/form-data; boundary=x", "Content-Length": "1048576"},
            b"",
        ),
        timeout=5,
    )
    assert status == 413


async def test_the_upload_limit_is_not_for_staff_who_are_not_admins(
    client, person, clock, tmp_path
) -> None:
    """A signed-in agent posting a 1.7 MB file to the upload route: 413, not 403 later."""
    await sign_in(client, await person("lena", Role.AGENT), clock)
    wav = make_tone(tmp_path / "take.wav", seconds=10.0)
    form = FormData({"language": "pl", "prompt": "announcement"})
    form.add_field(
        "file", io.BytesIO(wav.read_bytes()), filename="take.wav", content_type="audio/wav"
    )
    token = await csrf(client, "/calls")
    response = await client.post("/api/admin/prompts", data=form, headers={"X-CSRF-Token": token})
    assert response.status == 413
    assert (await response.json())["error_id"] == "too_large"


async def test_an_admin_still_uploads_a_prompt_larger_than_a_form(
    client, person, clock, tmp_path
) -> None:
    """A 1.7 MB WAV (ten seconds, 44.1 kHz stereo) from a signed-in admin is accepted."""
    await sign_in(client, await person("ada", Role.ADMIN), clock)
    wav = make_tone(tmp_path / "take.wav", seconds=10.0)
    assert wav.stat().st_size > FORM_BYTES
    form = FormData({"language": "en", "prompt": "announcement"})
    form.add_field(
        "file", io.BytesIO(wav.read_bytes()), filename="take.wav", content_type="audio/wav"
    )
    token = await csrf(client, "/admin/prompts")
    response = await client.post("/api/admin/prompts", data=form, headers={"X-CSRF-Token": token})
    assert response.status == 201, await response.text()
    assert (await response.json())["duration_seconds"] == pytest.approx(10.0, abs=0.1)
