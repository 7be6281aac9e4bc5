"""The exceptions callrec raises on purpose.

::

    CallrecError                  anything callrec raises deliberately
    ├── ConfigError               the configuration file is missing, unreadable or invalid
    ├── AriError                  the Asterisk REST interface answered with an error
    │   ├── AriUnavailableError   no answer at all: connection refused, reset or timed out
    │   ├── ChannelGoneError      404/409/422 on a channel or playback: it hung up already
    │   └── AriEventError         an event from the WebSocket could not be understood
    ├── PromptError               a prompt file is unreadable, empty or too quiet
    ├── RecordingError            a finished recording is missing, truncated or outside its folder
    ├── SandboxError              the local Asterisk sandbox could not be built or started
    ├── DatabaseError             the database refused a statement or is unreachable
    ├── InputError                a person or another program handed over something invalid
    │   └── NumberError           a phone number that cannot be read as one
    ├── NotFoundError             a call, hold, request or file asked for does not exist
    └── ForbiddenError            the person's role does not allow this on this call

Every message is one sentence naming the thing at fault, fit to show a user.
"""

from __future__ import annotations


class CallrecError(Exception):
    """Base of every exception callrec raises on purpose."""


class ConfigError(CallrecError):
    """The configuration is missing, unreadable or has a bad key."""


class AriError(CallrecError):
    """Asterisk answered a REST request with an unexpected status."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AriUnavailableError(AriError):
    """Asterisk could not be reached at all."""


class ChannelGoneError(AriError):
    """The channel or playback no longer exists (the caller hung up): an expected outcome."""


class AriEventError(AriError):
    """An ARI event was not valid JSON or lacked a field callrec needs."""


class PromptError(CallrecError):
    """A prompt could not be built or installed."""


class RecordingError(CallrecError):
    """A recording file is missing, incomplete, or outside the recordings folder."""


class SandboxError(CallrecError):
    """The local Asterisk sandbox could not be built, started or stopped."""


class DatabaseError(CallrecError):
    """The database could not be reached or refused a statement."""


class InputError(CallrecError):
    """Input from a person or another program is invalid; nothing was changed."""


class NumberError(InputError):
    """A phone number could not be read as one."""


class NotFoundError(CallrecError):
    """A call, hold, request or file that was asked for does not exist."""


class ForbiddenError(CallrecError):
    """The acting person's role does not allow this operation on this call."""
