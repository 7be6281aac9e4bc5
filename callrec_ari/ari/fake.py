"""An in-memory ``AriPort`` for unit tests: records every request and can be told to fail.

Shipped with the package (as structlog ships ``capture_logs``) so tests of any layer can use it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from callrec_ari.ari.models import Channel
from callrec_ari.errors import AriError, AriUnavailableError, ChannelGoneError


@dataclass(frozen=True)
class Request:
    """One operation the code under test asked of Asterisk."""

    operation: str
    target: str
    details: Mapping[str, Any] = field(default_factory=dict)


class FakeAri:
    """Answers like Asterisk would, keeping a log of requests in ``requests``."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.channels: dict[str, Channel] = {}
        self.app_channels: list[str] = []
        self.peer_apps: dict[str, list[str]] = {}  # another instance's application -> channels
        self.globals: dict[str, str] = {}
        self.bridges: list[list[str]] = []  # each bridge's channel ids (bridged_with)
        self.claimed: set[str] = set()  # channels some instance claimed (the first one wins)
        self.failures: dict[str, AriError] = {}  # operation name -> error to raise
        self.unavailable = False
        self.in_order = False  # as over HTTP: each request is answered before the next
        self.startup_time = "2026-11-24T08:00:00.000+0000"  # started_at; restart() changes it
        self._requested = asyncio.Event()  # set at every request, for tests awaiting one

    def add_channel(
        self,
        channel_id: str,
        *,
        caller: str = "48221234567",
        app_data: str = "callrec,5551000",
        in_app: bool = True,
        app_name: str = "Stasis",
    ) -> Channel:
        """Make a channel exist (and, by default, sit in our Stasis application)."""
        channel = Channel(
            id=channel_id,
            name=f"PJSIP/trunk-{len(self.channels):08x}",
            state="Ring",
            caller_number=caller,
            context="callrec-consent",
            app_data=app_data,
            created=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
            app_name=app_name,
        )
        self.channels[channel_id] = channel
        if in_app:
            self.app_channels.append(channel_id)
        return channel

    def fail(self, operation: str, status: int = 500) -> None:
        """Make every later ``operation`` fail: 404/409/422 as "gone", anything else as an error."""
        if status in (404, 409, 422):
            self.failures[operation] = ChannelGoneError(f"{operation}: gone", status=status)
        else:
            self.failures[operation] = AriError(f"{operation}: failed", status=status)

    def operations(self, target: str | None = None) -> list[str]:
        """The names of the requests made so far (for one channel or playback, if given)."""
        return [r.operation for r in self.requests if target is None or r.target == target]

    async def requested(self, operation: str, target: str) -> Request:
        """The first ``operation`` request on ``target``, waiting until one is made (a request
        a timer of the controller's causes, which no event fed in can be awaited for)."""
        while True:
            for request in self.requests:
                if request.operation == operation and request.target == target:
                    return request
            self._requested.clear()
            await self._requested.wait()

    def _record(self, operation: str, target: str, **details: Any) -> None:
        if self.unavailable:
            raise AriUnavailableError("fake Asterisk is down")
        self.requests.append(Request(operation, target, details))
        self._requested.set()
        failure = self.failures.get(operation)
        if failure is not None:
            raise failure

    async def answer(self, channel_id: str) -> None:
        """Record an answer."""
        self._record("answer", channel_id)

    async def play(
        self, channel_id: str, media: Sequence[str], *, language: str, playback_id: str
    ) -> None:
        """Record a playback."""
        self._record(
            "play", channel_id, media=tuple(media), language=language, playback_id=playback_id
        )

    async def stop_playback(self, playback_id: str) -> None:
        """Record a stopped playback."""
        self._record("stop_playback", playback_id)

    async def set_variables(self, channel_id: str, variables: Mapping[str, str]) -> None:
        """Record channel variables."""
        self._record("set_variables", channel_id, variables=dict(variables))

    async def subscribe(self, channel_id: str) -> None:
        """Record a subscription."""
        self._record("subscribe", channel_id)

    async def continue_in_dialplan(self, channel_id: str, context: str) -> None:
        """Record a continue; the channel leaves the application."""
        self._record("continue", channel_id, context=context)
        if channel_id in self.app_channels:
            self.app_channels.remove(channel_id)

    async def hangup(self, channel_id: str) -> None:
        """Record a hang-up; the channel is gone afterwards."""
        self._record("hangup", channel_id)
        self.channels.pop(channel_id, None)

    async def get_channel(self, channel_id: str) -> Channel:
        """Return a channel made with ``add_channel``, or raise "gone"."""
        self._record("get_channel", channel_id)
        try:
            return self.channels[channel_id]
        except KeyError:
            raise ChannelGoneError(f"channel {channel_id} not found", status=404) from None

    async def set_event_filter(self, event_types: Sequence[str]) -> None:
        """Record the event filter."""
        self._record("set_event_filter", "callrec", event_types=tuple(event_types))

    async def started_at(self) -> str:
        """``startup_time``: when the fake Asterisk (last) started."""
        self._record("started_at", "asterisk")
        return self.startup_time

    def restart(self) -> None:
        """Make the fake Asterisk a new process: a new start time and none of the old channels."""
        minutes = int(self.startup_time[14:16]) + 1
        self.startup_time = f"2026-11-24T08:{minutes:02d}:00.000+0000"
        self.channels.clear()
        self.app_channels.clear()

    async def app_channel_ids(self, app: str | None = None) -> list[str]:
        """The channels placed in the application with ``add_channel`` (or in ``peer_apps``)."""
        self._record("app_channel_ids", app or "callrec")
        return list(self.app_channels if app is None else self.peer_apps.get(app, []))

    async def bridged_with(self, channel_id: str) -> list[Channel]:
        """The channels of ``bridges`` beside ``channel_id`` that exist (``add_channel``)."""
        self._record("bridged_with", channel_id)
        for members in self.bridges:
            if channel_id in members:
                return [self.channels[c] for c in members if c != channel_id and c in self.channels]
        return []

    async def snoop(self, channel_id: str, snoop_id: str, *, app_args: str) -> None:
        """Record a snoop; "gone" if ``channel_id`` was never added (``add_channel``) or hung
        up. The snoop channel exists afterwards, outside the application until a test feeds
        its ``StasisStart``."""
        self._record("snoop", channel_id, snoop_id=snoop_id, app_args=app_args)
        if channel_id not in self.channels:
            raise ChannelGoneError(f"channel {channel_id} not found", status=404)
        made = self.add_channel(snoop_id, in_app=False, app_data="", app_name="")
        self.channels[snoop_id] = replace(made, name=f"Snoop/{channel_id}-{len(self.channels):08x}")

    async def claim(self, channel_id: str) -> bool:
        """Record a claim; only the first claim of a channel wins."""
        self._record("claim", channel_id)
        if channel_id in self.claimed:
            return False
        self.claimed.add(channel_id)
        return True

    async def set_global(self, name: str, value: str) -> None:
        """Record a global variable."""
        self._record("set_global", name, value=value)
        self.globals[name] = value

    async def global_value(self, name: str) -> str:
        """A global variable set earlier ("" if none)."""
        self._record("global_value", name)
        return self.globals.get(name, "")
