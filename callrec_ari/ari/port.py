"""What the call controller needs from Asterisk, as a Protocol.

``AriClient`` implements it over HTTP; ``FakeAri`` implements it in memory for unit tests.
Every method raises ``ChannelGoneError`` when the channel (or playback) no longer exists,
``AriUnavailableError`` when Asterisk cannot be reached and ``AriError`` for anything else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from callrec_ari.ari.models import Channel


class AriPort(Protocol):
    """The REST operations callrec performs on channels."""

    @property
    def in_order(self) -> bool:
        """Whether requests sent one after another are carried out in that order (one
        socket, read by Asterisk one request at a time), so a batch need not wait for each
        answer before sending the next."""

    async def answer(self, channel_id: str) -> None:
        """Answer the channel."""

    async def play(
        self, channel_id: str, media: Sequence[str], *, language: str, playback_id: str
    ) -> None:
        """Start playing ``media`` (one after the other) in ``language``."""

    async def stop_playback(self, playback_id: str) -> None:
        """Stop a playback early."""

    async def set_variables(self, channel_id: str, variables: Mapping[str, str]) -> None:
        """Set channel variables the dialplan will read."""

    async def subscribe(self, channel_id: str) -> None:
        """Keep receiving the channel's events after it leaves the Stasis application."""

    async def continue_in_dialplan(self, channel_id: str, context: str) -> None:
        """Send the channel back to the dialplan at ``context``, extension ``s``, priority 1."""

    async def hangup(self, channel_id: str) -> None:
        """Hang the channel up with a normal clearing cause."""

    async def get_channel(self, channel_id: str) -> Channel:
        """The channel as Asterisk sees it now."""

    async def app_channel_ids(self, app: str | None = None) -> list[str]:
        """The channels currently in a Stasis application (ours unless ``app`` names one)."""

    async def bridged_with(self, channel_id: str) -> list[Channel]:
        """The other channels in the bridge ``channel_id`` is in now (none if it is in none)."""

    async def set_event_filter(self, event_types: Sequence[str]) -> None:
        """Have Asterisk send our application only these event types."""

    async def started_at(self) -> str:
        """When the running Asterisk started, as Asterisk says it: another value means another
        Asterisk process (it was restarted)."""

    async def global_value(self, name: str) -> str:
        """A global dialplan variable's value ("" when not set)."""

    async def snoop(self, channel_id: str, snoop_id: str, *, app_args: str) -> None:
        """Make channel ``snoop_id`` in our application whose audio ``channel_id`` hears
        (whisper out), and nobody else: how callrec speaks to one party of a bridged call."""


class InstancePort(Protocol):
    """What one of several callrec instances needs besides ``AriPort`` (README, "Two
    instances"): claiming broadcast calls and a lease in Asterisk's global variables."""

    async def claim(self, channel_id: str) -> bool:
        """Claim a call ``StasisBroadcast()`` offered; False if another instance was first."""

    async def set_global(self, name: str, value: str) -> None:
        """Set a global dialplan variable."""

    async def global_value(self, name: str) -> str:
        """A global dialplan variable's value ("" when not set)."""
