"""ARI's event WebSocket: connect, keep alive with heartbeats, reconnect with backoff, forever.

The stream never handles an event itself: it parses each message and hands it to ``on_event``
(which must not block), and calls ``on_connect`` after every successful (re)connection so the
controller can reconcile calls it lost sight of while disconnected. Answers to REST requests
sent on the same socket (``ws_rest.py``) go to the request that waits for them instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp
import orjson
import structlog

from callrec_ari.ari.client import auth_header
from callrec_ari.ari.models import APPLICATION_REPLACED, AriEvent, parse_event
from callrec_ari.ari.ws_rest import RESPONSE, WsRest
from callrec_ari.config import AriSettings
from callrec_ari.errors import AriEventError

log = structlog.get_logger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class EventStream:
    """Owns the events WebSocket of one Stasis application."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: AriSettings,
        *,
        on_event: Callable[[AriEvent], None],
        on_connect: Callable[[], Awaitable[None]],
        on_open: Callable[[], None] | None = None,
        sleep: Sleep = asyncio.sleep,
        rest: WsRest | None = None,
    ) -> None:
        self._session = session
        self._settings = settings
        self._on_event = on_event
        self._on_connect = on_connect
        # Called before the first event of a connection is read, where on_connect (a task
        # beside the reader) may run only after some: what it must see as "before" is here.
        self._on_open = on_open
        self._sleep = sleep
        self._rest = rest  # REST requests ride on this socket once it answers (ws_rest.py)
        self._connected = asyncio.Event()
        self._reconciled = asyncio.Event()
        self.connections = 0
        self.replaced = False  # another WebSocket took our application: we hear nothing more

    @property
    def connected(self) -> bool:
        """Whether the WebSocket is open right now."""
        return self._connected.is_set()

    @property
    def reconciled(self) -> bool:
        """Whether the calls of the current connection's start have been looked at again
        (lost calls settled, an earlier run's calls adopted); false while disconnected."""
        return self._reconciled.is_set()

    async def wait_connected(self) -> None:
        """Return once the WebSocket is open."""
        await self._connected.wait()

    async def run(self) -> None:
        """Connect and read events until cancelled, reconnecting with exponential backoff."""
        delay = self._settings.reconnect_min_seconds
        while True:
            try:
                await self._connect_and_read()
                delay = self._settings.reconnect_min_seconds
            except aiohttp.WSServerHandshakeError as exc:
                log.error(
                    "ari.refused",
                    status=exc.status,
                    hint="check [ari] username, password and app in the config",
                )
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                log.warning("ari.unreachable", url=self._settings.url, error=repr(exc))
            finally:
                self._connected.clear()
                self._reconciled.clear()
            log.info("ari.reconnecting", in_seconds=round(delay, 2))
            await self._sleep(delay)
            delay = min(delay * 2, self._settings.reconnect_max_seconds)

    async def _connect_and_read(self) -> None:
        url = self._settings.url.replace("http", "ws", 1) + "/ari/events"
        async with self._session.ws_connect(
            url,
            params={"app": self._settings.app, "subscribeAll": "false"},
            headers=auth_header(self._settings),
            heartbeat=self._settings.heartbeat_seconds,
        ) as ws:
            self.connections += 1
            self.replaced = False
            self._connected.set()
            log.info("ari.connected", app=self._settings.app, connection=self.connections)
            if self._on_open is not None:
                self._on_open()
            reconcile = asyncio.create_task(self._reconcile())
            probe = asyncio.create_task(self._attach(ws))
            try:
                async for message in ws:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        self._dispatch(message.data)
                    elif message.type == aiohttp.WSMsgType.ERROR:
                        log.warning("ari.socket_error", error=repr(ws.exception()))
                        break
            finally:
                if self._rest is not None:
                    self._rest.detach()
                for task in (reconcile, probe):
                    if not task.done():
                        task.cancel()
                await asyncio.gather(reconcile, probe, return_exceptions=True)
            log.warning("ari.disconnected", close_code=ws.close_code)

    async def _reconcile(self) -> None:
        # Runs beside the reader, not before it, so new calls are never held up by it.
        try:
            await self._on_connect()
        except Exception:
            log.exception("ari.reconcile_failed")
        self._reconciled.set()

    async def _attach(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        # Beside the reader too: the reader delivers the probe's answer.
        if self._rest is not None:
            answers = await self._rest.attach(ws)
            log.info("ari.rest_over_websocket", enabled=answers)

    def _dispatch(self, text: str) -> None:
        try:
            data = orjson.loads(text)
            if self._rest is not None and isinstance(data, dict) and data.get("type") == RESPONSE:
                self._rest.deliver(data)
                return
            if isinstance(data, dict) and data.get("type") == APPLICATION_REPLACED:
                self._replaced()
                return
            event = parse_event(data)
        except (ValueError, RecursionError, AriEventError) as exc:
            log.warning("ari.bad_event", error=repr(exc)[:200], sample=text[:200])
            return
        if event is None:
            return
        try:
            self._on_event(event)
        except Exception:
            # One event the handler chokes on must not stop every later call's events.
            log.exception("ari.event_handler_failed", event_type=type(event).__name__)

    def _replaced(self) -> None:
        # Taking the name back would only deafen the other side in turn: say it, loudly.
        self.replaced = True
        log.error(
            "ari.application_replaced",
            app=self._settings.app,
            hint="another connection registered this [ari] app; give each instance its own",
        )
