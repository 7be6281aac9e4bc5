"""The ARI REST client: channel operations over aiohttp, with "channel gone" as a typed outcome.

Each request names its route as a template (``/channels/{}/play/{}``) and the ids that fill it,
so the request latency is measured per route without ever putting an id in a metric label.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from callrec_ari.ari.models import Channel, parse_channel
from callrec_ari.ari.ws_rest import RESPONSE, WsRest
from callrec_ari.config import AriSettings
from callrec_ari.errors import AriError, AriUnavailableError, ChannelGoneError
from callrec_ari.metrics import Metrics

# 404: no such channel or playback; 409: channel not in Stasis any more; 422: channel hung up
# while the request was in flight. All three mean the caller is gone, not that callrec failed.
_GONE = frozenset({404, 409, 422})


def auth_header(settings: AriSettings) -> dict[str, str]:
    """The Authorization header for ARI's HTTP basic authentication."""
    return {"Authorization": aiohttp.encode_basic_auth(settings.username, settings.password)}


class AriClient:
    """``AriPort`` over HTTP. The caller owns ``session`` (one per service, closed on shutdown)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: AriSettings,
        *,
        metrics: Metrics | None = None,
        latency: Callable[[float], None] = lambda _seconds: None,
        websocket: WsRest | None = None,
    ) -> None:
        self._session = session
        self._metrics = metrics or Metrics()
        self._latency = latency  # each round trip, for the overload check (flow/overload.py)
        self._websocket = websocket  # requests go there while it is available (ws_rest.py)
        self._settings = settings
        self._base = f"{settings.url}/ari"
        self._headers = auth_header(settings)
        self._timeout = aiohttp.ClientTimeout(total=settings.request_timeout_seconds)

    @property
    def in_order(self) -> bool:
        """Requests over the event socket are read and carried out by Asterisk one at a time,
        in the order sent; over HTTP each may take its own connection."""
        return self._websocket is not None and self._websocket.available

    async def answer(self, channel_id: str) -> None:
        """Answer the channel."""
        await self._request("POST", "/channels/{}/answer", channel_id)

    async def play(
        self, channel_id: str, media: Sequence[str], *, language: str, playback_id: str
    ) -> None:
        """Start playing ``media`` in ``language``; ``playback_id`` names it in later events."""
        await self._request(
            "POST",
            "/channels/{}/play/{}",
            channel_id,
            playback_id,
            params={"media": ",".join(media), "lang": language},
        )

    async def stop_playback(self, playback_id: str) -> None:
        """Stop a playback early."""
        await self._request("DELETE", "/playbacks/{}", playback_id)

    async def set_variables(self, channel_id: str, variables: Mapping[str, str]) -> None:
        """Set channel variables (one request each, sent together)."""
        await asyncio.gather(
            *(
                self._request(
                    "POST",
                    "/channels/{}/variable",
                    channel_id,
                    params={"variable": name, "value": value},
                )
                for name, value in variables.items()
            )
        )

    async def subscribe(self, channel_id: str) -> None:
        """Subscribe our application to the channel's events."""
        try:
            await self._request(
                "POST",
                "/applications/{}/subscription",
                self._settings.app,
                params={"eventSource": f"channel:{channel_id}"},
            )
        except AriError as exc:
            if exc.status == 422:  # "Event source does not exist": the channel hung up
                raise ChannelGoneError(str(exc), status=exc.status) from None
            raise

    async def snoop(self, channel_id: str, snoop_id: str, *, app_args: str) -> None:
        """A whisper-only snoop channel on ``channel_id`` in our application (``app_args``
        in its ``StasisStart``)."""
        await self._request(
            "POST",
            "/channels/{}/snoop/{}",
            channel_id,
            snoop_id,
            params={"app": self._settings.app, "appArgs": app_args, "whisper": "out"},
        )

    async def continue_in_dialplan(self, channel_id: str, context: str) -> None:
        """Leave Stasis for ``context``, extension ``s``, priority 1."""
        await self._request(
            "POST",
            "/channels/{}/continue",
            channel_id,
            params={"context": context, "extension": "s", "priority": "1"},
        )

    async def hangup(self, channel_id: str) -> None:
        """Hang up with a normal clearing cause."""
        await self._request("DELETE", "/channels/{}", channel_id, params={"reason": "normal"})

    async def get_channel(self, channel_id: str) -> Channel:
        """The channel as Asterisk sees it now."""
        data = await self._request("GET", "/channels/{}", channel_id)
        try:
            return parse_channel(data)
        except (KeyError, TypeError) as exc:
            raise AriError(f"Asterisk sent a malformed channel {channel_id!r} ({exc}).") from None

    async def app_channel_ids(self, app: str | None = None) -> list[str]:
        """The channels in a Stasis application (ours by default), or subscribed to by it;
        none for an application Asterisk no longer knows."""
        name = app or self._settings.app
        try:
            data = await self._request("GET", "/applications/{}", name)
        except AriError as exc:
            if exc.status == 404 and app is not None:
                return []  # a peer that is gone and left no channel behind
            raise
        ids = data.get("channel_ids") if isinstance(data, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise AriError(f"Asterisk sent a malformed application {name!r}.")
        return list(ids)

    async def bridged_with(self, channel_id: str) -> list[Channel]:
        """The other channels in the bridge ``channel_id`` is in now (none if it is in none):
        after an attended transfer, the agent the caller now talks to."""
        data = await self._request("GET", "/bridges")
        if not isinstance(data, list):
            raise AriError("Asterisk sent a malformed list of bridges.")
        for bridge in data:
            members = bridge.get("channels") if isinstance(bridge, dict) else None
            if not isinstance(members, list):
                raise AriError("Asterisk sent a malformed bridge.")
            if channel_id not in members:
                continue
            others = []
            for other in members:
                if other == channel_id or not isinstance(other, str):
                    continue
                try:
                    others.append(await self.get_channel(other))
                except ChannelGoneError:
                    continue  # hung up while we asked: not on the call any more
            return others
        return []

    async def claim(self, channel_id: str) -> bool:
        """Claim a call ``StasisBroadcast()`` offered; False if another instance was first
        (409) or the offer is over (404)."""
        try:
            await self._request(
                "POST",
                "/events/claim",
                params={"channelId": channel_id, "application": self._settings.app},
            )
        except AriError as exc:
            if exc.status in (404, 409):
                return False
            raise
        return True

    async def set_global(self, name: str, value: str) -> None:
        """Set a global dialplan variable."""
        await self._request("POST", "/asterisk/variable", params={"variable": name, "value": value})

    async def global_value(self, name: str) -> str:
        """A global dialplan variable's value ("" when it is not set)."""
        data = await self._request("GET", "/asterisk/variable", params={"variable": name})
        value = data.get("value", "") if isinstance(data, dict) else None
        if not isinstance(value, str):
            raise AriError(f"Asterisk sent a malformed value of the variable {name!r}.")
        return value

    async def set_event_filter(self, event_types: Sequence[str]) -> None:
        """Have Asterisk send our application only these event types (and the answers to
        REST requests on the socket, which Asterisk filters like events: without them every
        request sent there after this one would wait in vain)."""
        allowed = [*event_types, RESPONSE] if RESPONSE not in event_types else event_types
        await self._request(
            "PUT",
            "/applications/{}/eventFilter",
            self._settings.app,
            json={"allowed": [{"type": kind} for kind in allowed]},
        )

    async def info(self) -> Any:
        """``GET /asterisk/info``: a cheap authenticated request to check ARI answers."""
        return await self._request("GET", "/asterisk/info")

    async def started_at(self) -> str:
        """``status.startup_time`` of ``GET /asterisk/info``."""
        info = await self.info()
        try:
            return str(info["status"]["startup_time"])
        except (KeyError, TypeError):
            raise AriError("ARI's /asterisk/info did not say when Asterisk started.") from None

    async def _request(
        self,
        method: str,
        route: str,
        *ids: str,
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> Any:
        """``method`` on ``route`` with each ``{}`` filled by the next of ``ids``, quoted."""
        path = route.format(*(_seg(value) for value in ids))
        started = time.perf_counter()
        try:
            return await self._exchange(method, path, params=params, json=json)
        finally:
            seconds = time.perf_counter() - started
            self._metrics.ari_request(method, route, seconds)
            self._latency(seconds)

    async def _exchange(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None,
        json: Any,
    ) -> Any:
        if self._websocket is not None and self._websocket.available:
            answer = await self._websocket.request(
                method,
                path,
                params=params,
                body=json,
                timeout=self._settings.request_timeout_seconds,
            )
            return _outcome(method, path, answer.status, answer.body)
        url = self._base + path
        try:
            async with self._session.request(
                method,
                url,
                params=params,
                json=json,
                headers=self._headers,
                timeout=self._timeout,
            ) as response:
                return _outcome(method, path, response.status, await response.text())
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError) as exc:
            raise AriUnavailableError(
                f"Asterisk's ARI at {self._settings.url} did not answer {method} {path} ({exc!r})."
            ) from None
        except UnicodeDecodeError as exc:
            raise AriError(f"ARI {method} {path} sent a body that is not JSON ({exc}).") from None
        except aiohttp.ClientError as exc:
            raise AriError(f"ARI {method} {path} sent a broken HTTP answer ({exc!r}).") from None


def _outcome(method: str, path: str, status: int, body: str) -> Any:
    """What an answer means, over HTTP or the WebSocket alike: the JSON body, None, or the
    typed failure ("channel gone" for a channel or playback that is no more)."""
    if status in _GONE and path.startswith(("/channels/", "/playbacks/")):
        raise ChannelGoneError(
            f"ARI {method} {path} found no such channel or playback ({status}).", status=status
        )
    if status >= 400:
        raise AriError(f"ARI {method} {path} failed with {status}: {body[:200]}", status=status)
    if status == 204 or not body:
        return None
    try:
        return orjson.loads(body)
    except ValueError as exc:
        raise AriError(f"ARI {method} {path} sent a body that is not JSON ({exc}).") from None


def _seg(value: str) -> str:
    """One URL path segment; ids come from the network, so nothing may escape into the path."""
    if value in {"", ".", ".."}:
        # Quoting cannot help: URL normalisation would still resolve these as folders.
        raise AriError(f"The id {value!r} cannot name a channel, playback or application.")
    return quote(value, safe="")
