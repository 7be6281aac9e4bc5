"""A fake Asterisk REST interface: a real aiohttp server on 127.0.0.1 that records what it is sent.

``FakeAsterisk`` answers ``/ari/...`` requests from a table of canned ``Reply`` objects (204 by
default) and serves ``/ari/events`` as a WebSocket a test can push messages into, close, refuse
or stop answering pings on. ``RawServer`` answers every connection with fixed bytes, for
responses no HTTP server would send.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

CALLER_ID = "1795514341.6"
AGENT_ID = "1795514342.7"
EVENTS_PATH = "/ari/events"
PATIENCE = 3.0  # seconds a test waits for something that should happen at once


@dataclass(frozen=True)
class Seen:
    """One request (or WebSocket handshake) as the server received it."""

    method: str
    raw_path: str  # still percent-encoded, exactly as sent
    query: dict[str, str]
    authorization: str | None
    over_websocket: bool = False  # sent as a RESTRequest on the event socket


@dataclass(frozen=True)
class Reply:
    """A canned answer: ``json`` is encoded, ``text`` is sent as-is, ``delay`` holds it back."""

    status: int = 204
    json: Any = None
    text: str | None = None
    delay: float = 0.0


@dataclass
class FakeAsterisk:
    """A fake ARI server; ``start`` it, point ``AriSettings.url`` at ``url``, ``stop`` it."""

    requests: list[Seen] = field(default_factory=list)
    replies: dict[tuple[str, str], Reply] = field(default_factory=dict)
    handshakes: list[Seen] = field(default_factory=list)
    refuse: list[int] = field(default_factory=list)  # statuses for the next handshakes
    answer_pings: bool = True
    # Answer REST requests sent on the event socket, as Asterisk 22 does (ari/ws_rest.py).
    rest_over_websocket: bool = True
    # Message types the application's event filter lets through (None: all), as Asterisk
    # applies it to events and to answers on the socket alike.
    allowed_types: set[str] | None = None
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The base URL, as ``[ari] url`` in the config would name it."""
        return f"http://127.0.0.1:{self.port}"

    def reply(self, method: str, raw_path: str, reply: Reply) -> None:
        """Answer ``method raw_path`` (e.g. ``GET /ari/channels/c1``) with ``reply`` from now on."""
        self.replies[method, raw_path] = reply

    async def start(self) -> None:
        """Listen on the port used before, or on a free one the first time."""
        app = web.Application()
        app.router.add_get(EVENTS_PATH, self._events)
        app.router.add_route("*", "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        if self.port == 0:
            self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Close every WebSocket as Asterisk does on shutdown, then stop listening."""
        await self.close_sockets(WSCloseCode.GOING_AWAY)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def send(self, message: Any) -> None:
        """Send ``message`` to every open WebSocket: a ``str`` verbatim, anything else as JSON."""
        text = message if isinstance(message, str) else json.dumps(message)
        for ws in list(self.sockets):
            await ws.send_str(text)

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary frame to every open WebSocket."""
        for ws in list(self.sockets):
            await ws.send_bytes(data)

    async def close_sockets(self, code: int = WSCloseCode.OK) -> None:
        """Close every open WebSocket from the server's side."""
        for ws in list(self.sockets):
            await ws.close(code=code)

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        seen = _seen(request)
        self.requests.append(seen)
        reply = self.replies.get((seen.method, seen.raw_path), Reply())
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.text is not None:
            return web.Response(status=reply.status, text=reply.text)
        if reply.json is not None:
            return web.json_response(reply.json, status=reply.status)
        return web.Response(status=reply.status)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        self.handshakes.append(_seen(request))
        if self.refuse:
            status = self.refuse.pop(0)
            return web.json_response({"message": "Authentication required"}, status=status)
        ws = web.WebSocketResponse(autoping=self.answer_pings)
        await ws.prepare(request)
        self.sockets.append(ws)
        answering: set[asyncio.Task[None]] = set()
        authorization = request.headers.get("Authorization")
        try:
            async for message in ws:  # pings are answered (or not) by autoping
                if message.type != WSMsgType.TEXT or not self.rest_over_websocket:
                    continue
                data = json.loads(message.data)
                if isinstance(data, dict) and data.get("type") == "RESTRequest":
                    task = asyncio.create_task(self._ws_rest(ws, data, authorization))
                    answering.add(task)
                    task.add_done_callback(answering.discard)
        finally:
            self.sockets.remove(ws)
            for task in answering:
                task.cancel()
        return ws

    async def _ws_rest(
        self, ws: web.WebSocketResponse, data: dict[str, Any], authorization: str | None
    ) -> None:
        """Answer one REST request sent on the event socket from the same reply table."""
        queries = data.get("query_strings") or []
        seen = Seen(
            method=data["method"],
            raw_path="/ari/" + data["uri"],
            query={q["name"]: q["value"] for q in queries},
            authorization=authorization,
            over_websocket=True,
        )
        self.requests.append(seen)
        reply = self.replies.get((seen.method, seen.raw_path), Reply())
        if reply.delay:
            await asyncio.sleep(reply.delay)
        body = reply.text if reply.text is not None else ""
        if reply.text is None and reply.json is not None:
            body = json.dumps(reply.json)
        if data["method"] == "PUT" and data["uri"].endswith("/eventFilter"):
            allowed = json.loads(data.get("message_body") or "{}").get("allowed", [])
            self.allowed_types = {entry["type"] for entry in allowed}
        if ws.closed or (
            self.allowed_types is not None and "RESTResponse" not in self.allowed_types
        ):
            return
        await ws.send_str(
            json.dumps(
                {
                    "type": "RESTResponse",
                    "request_id": data.get("request_id", ""),
                    "status_code": reply.status,
                    "reason_phrase": "",
                    "uri": data["uri"],
                    "content_type": "application/json",
                    "message_body": body,
                }
            )
        )


def _seen(request: web.Request) -> Seen:
    return Seen(
        method=request.method,
        raw_path=request.raw_path.partition("?")[0],
        query=dict(request.query),
        authorization=request.headers.get("Authorization"),
    )


@dataclass
class RawServer:
    """Answers every connection with ``response`` bytes, then closes it."""

    response: bytes
    port: int = 0
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        """The base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen on a free port."""
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(self.response)
        await writer.drain()
        writer.close()
        await writer.wait_closed()


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait until ``condition()`` holds, failing the test after ``PATIENCE`` seconds."""
    async with asyncio.timeout(PATIENCE):
        # The condition spans the server, the stream and the test's callbacks: poll it.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


# What Asterisk 22 sends: channel objects and events, shaped like the real ones.


def channel_json(
    channel_id: str = CALLER_ID,
    *,
    name: str = "PJSIP/trunk-00000006",
    number: str = "48221234567",
    context: str = "callrec-consent",
    app_data: str = "callrec,5551000",
) -> dict[str, Any]:
    """A channel object as Asterisk 22 puts it into events."""
    return {
        "id": channel_id,
        "name": name,
        "state": "Ring",
        "protocol_id": "3f6d0c2a-1b7e-4a55-9d3e-7f0a2c6b8e11",
        "caller": {"name": "Jan Kowalski", "number": number},
        "connected": {"name": "", "number": ""},
        "accountcode": "",
        "dialplan": {
            "context": context,
            "exten": "5551000",
            "priority": 3,
            "app_name": "Stasis",
            "app_data": app_data,
        },
        "creationtime": "2026-11-24T09:59:01.112+0000",
        "language": "en",
    }


def envelope(kind: str, **fields: Any) -> dict[str, Any]:
    """An event as the WebSocket delivers it."""
    return {
        "type": kind,
        "timestamp": "2026-11-24T09:59:01.254+0000",
        "asterisk_id": "52:54:00:6b:1c:0e",
        "application": "callrec",
        **fields,
    }


def stasis_start() -> dict[str, Any]:
    """A caller entering ``Stasis(callrec,5551000)``."""
    return envelope("StasisStart", args=["5551000"], channel=channel_json())


def playback_finished(target: str = f"channel:{CALLER_ID}", state: str = "done") -> dict[str, Any]:
    """The consent prompt ended."""
    playback = {
        "id": "consent-1795514341.6",
        "media_uri": "sound:callrec-consent",
        "target_uri": target,
        "language": "pl",
        "state": state,
    }
    return envelope("PlaybackFinished", playback=playback)


def dial(status: str = "ANSWER") -> dict[str, Any]:
    """Dial() from the caller's channel to an agent."""
    peer = channel_json(AGENT_ID, name="PJSIP/agent1-00000007", number="", context="agents")
    return envelope(
        "Dial",
        caller=channel_json(),
        peer=peer,
        dialstring="agent1",
        forward="",
        dialstatus=status,
    )


def sample(kind: str) -> dict[str, Any]:
    """A fresh, valid event of each type callrec acts on, as Asterisk 22 sends it."""
    samples: dict[str, Callable[[], dict[str, Any]]] = {
        "StasisStart": stasis_start,
        "StasisEnd": lambda: envelope("StasisEnd", channel=channel_json()),
        "ChannelHangupRequest": lambda: envelope(
            "ChannelHangupRequest", cause=16, channel=channel_json()
        ),
        "ChannelDtmfReceived": lambda: envelope(
            "ChannelDtmfReceived", digit="1", duration_ms=160, channel=channel_json()
        ),
        "PlaybackFinished": playback_finished,
        "Dial": dial,
        "ChannelDestroyed": lambda: envelope(
            "ChannelDestroyed", cause=16, cause_txt="Normal Clearing", channel=channel_json()
        ),
        "ChannelUserevent": withdrawn_event,
    }
    return samples[kind]()


def withdrawn_event(stamp: str = "1795514353.847") -> dict[str, Any]:
    """The dialplan's UserEvent(callrec-withdrawn,at: <stamp>) on the caller's channel."""
    return envelope(
        "ChannelUserevent",
        eventname="callrec-withdrawn",
        userevent={"eventname": "callrec-withdrawn", "at": stamp},
        channel=channel_json(context="callrec-withdraw", app_data="callrec-withdrawn,at: 1"),
    )


KINDS = (
    "StasisStart",
    "StasisEnd",
    "ChannelHangupRequest",
    "ChannelDtmfReceived",
    "PlaybackFinished",
    "Dial",
    "ChannelDestroyed",
    "ChannelUserevent",
)
