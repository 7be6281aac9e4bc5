"""REST requests on the event WebSocket (ari/ws_rest.py), against the fake Asterisk: used once
Asterisk answers on it, HTTP otherwise, the same outcomes either way."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import pytest

from callrec_ari.ari.client import AriClient
from callrec_ari.ari.events import EventStream
from callrec_ari.ari.ws_rest import WsRest
from callrec_ari.config import AriSettings
from callrec_ari.errors import AriUnavailableError, ChannelGoneError
from tests.ari.fake_server import CALLER_ID, FakeAsterisk, Reply, eventually


@contextlib.asynccontextmanager
async def streaming(
    session: aiohttp.ClientSession, settings: AriSettings, rest: WsRest
) -> AsyncIterator[EventStream]:
    """An event stream on the fake Asterisk carrying ``rest``, stopped afterwards."""

    async def nothing() -> None:
        return None

    stream = EventStream(
        session, settings, on_event=lambda _event: None, on_connect=nothing, rest=rest
    )
    task = asyncio.create_task(stream.run())
    try:
        await eventually(lambda: stream.connected)
        yield stream
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_requests_ride_on_the_socket_once_asterisk_answers_there(
    fake_ari: FakeAsterisk, session: aiohttp.ClientSession, settings: AriSettings
):
    """After the ping is answered on the socket, answer and play go there, not over HTTP,
    with their ids quoted as HTTP would and their parameters as query strings."""
    rest = WsRest()
    client = AriClient(session, settings, websocket=rest)
    async with streaming(session, settings, rest):
        await eventually(lambda: rest.available)
        await client.answer(CALLER_ID)
        await client.play(CALLER_ID, ["sound:a", "sound:b"], language="pl", playback_id="p 1")
    answer, play = fake_ari.requests[-2:]
    assert answer.over_websocket
    assert play.over_websocket
    assert answer.raw_path == f"/ari/channels/{CALLER_ID}/answer"
    assert play.raw_path == f"/ari/channels/{CALLER_ID}/play/p%201"
    assert play.query == {"media": "sound:a,sound:b", "lang": "pl"}


async def test_a_gone_channel_is_the_same_typed_outcome_as_over_http(
    fake_ari: FakeAsterisk, session: aiohttp.ClientSession, settings: AriSettings
):
    """A 404 for a channel on the socket is "channel gone", and a JSON body comes back parsed."""
    rest = WsRest()
    client = AriClient(session, settings, websocket=rest)
    fake_ari.reply("POST", f"/ari/channels/{CALLER_ID}/answer", Reply(404, json={"message": "x"}))
    fake_ari.reply(
        "GET", "/ari/applications/callrec", Reply(200, json={"channel_ids": [CALLER_ID]})
    )
    async with streaming(session, settings, rest):
        await eventually(lambda: rest.available)
        with pytest.raises(ChannelGoneError):
            await client.answer(CALLER_ID)
        assert await client.app_channel_ids() == [CALLER_ID]
    assert all(seen.over_websocket for seen in fake_ari.requests[-2:])


async def test_an_asterisk_that_does_not_answer_on_the_socket_gets_http(
    fake_ari: FakeAsterisk, session: aiohttp.ClientSession, settings: AriSettings
):
    """An older Asterisk ignores requests on the socket: after the unanswered ping, every
    request goes over HTTP."""
    fake_ari.rest_over_websocket = False
    rest = WsRest(probe_timeout=0.2)
    client = AriClient(session, settings, websocket=rest)
    async with streaming(session, settings, rest):
        await asyncio.sleep(0.3)
        assert not rest.available
        await client.answer(CALLER_ID)
    assert fake_ari.requests[-1].raw_path == f"/ari/channels/{CALLER_ID}/answer"
    assert not fake_ari.requests[-1].over_websocket


async def test_a_request_whose_socket_drops_fails_as_unavailable(
    fake_ari: FakeAsterisk, session: aiohttp.ClientSession, settings: AriSettings
):
    """Asterisk closes the socket before answering: the waiting request fails at once as
    "ARI unavailable", as an HTTP request whose connection breaks."""
    rest = WsRest()
    client = AriClient(session, settings, websocket=rest)
    fake_ari.reply("POST", f"/ari/channels/{CALLER_ID}/answer", Reply(204, delay=5))
    async with streaming(session, settings, rest):
        await eventually(lambda: rest.available)
        answering = asyncio.create_task(client.answer(CALLER_ID))
        await eventually(lambda: fake_ari.requests[-1].raw_path.endswith("/answer"))
        await fake_ari.close_sockets()
        with pytest.raises(AriUnavailableError):
            await asyncio.wait_for(answering, 2)


async def test_answers_still_come_after_the_event_filter_is_set(
    fake_ari: FakeAsterisk, session: aiohttp.ClientSession, settings: AriSettings
):
    """Asterisk filters answers on the socket like events: the filter the client sets lets
    them through, so requests after it are answered."""
    rest = WsRest()
    client = AriClient(session, settings, websocket=rest)
    async with streaming(session, settings, rest):
        await eventually(lambda: rest.available)
        await client.set_event_filter(["StasisStart"])
        await asyncio.wait_for(client.answer(CALLER_ID), 2)
    assert fake_ari.allowed_types == {"StasisStart", "RESTResponse"}
    assert fake_ari.requests[-1].over_websocket
