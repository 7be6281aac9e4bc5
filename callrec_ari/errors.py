"""The exceptions callrec raises on purpose.

::

    CallrecError                  anything callrec raises deliberately
    ├── ConfigError               the configuration file is missing, unreadable or invalid
    │   └── ProfileNotFilledInError  no [profile]: no privacy notice may be published
    ├── AriError                  the Asterisk REST interface answered with an error
    │   ├── AriUnavailableError   no answer at all: connection refused, reset or timed out
    │   ├── ChannelGoneError      404/409/422 on a channel or playback: it hung up already
    │   └── AriEventError         an event from the WebSocket could not be understood
    ├── PromptError               a prompt file is unreadable, empty or too quiet
    ├── RecordingError            a finished recording is missing, truncated or outside its folder
    ├── StorageError              the recording store refused a request (bucket, credentials)
    │   └── StorageUnavailableError  no answer from the store: refused, reset, timed out, 5xx
    ├── SandboxError              the local Asterisk sandbox could not be built or started
    ├── DatabaseError             the database refused a statement or is unreachable
    ├── InputError                a person or another program handed over something invalid
    │   ├── NumberError           a phone number that cannot be read as one
    │   └── SignInError           a wrong password or code (``staff.signin``)
    ├── TooManyAttemptsError      too many sign-in attempts from one address, or at once
    ├── NotFoundError             a call, hold, request or file asked for does not exist
    └── ForbiddenError            the person's role does not allow this on this call
        ├── NotSignedInError      nobody is signed in
        └── CsrfError             a POST without the session's CSRF token, or from another site

Every message is one sentence naming the thing at fault, fit to show a user.

The staff web app answers every one of them in one place (``web/errors.py``), with the
HTTP status and the stable ``error_id`` the class carries (``http_status``, ``error_id``;
a subclass may be more specific) and, for the API, ``{"error": message, "error_id": id}``:

    InputError         400  invalid_input       NumberError  invalid_number,
                                                SignInError  sign_in_failed
    NotSignedInError   401  not_signed_in       (a page asked for: the sign-in form instead)
    ForbiddenError     403  forbidden           CsrfError    csrf_refused
    NotFoundError      404  not_found
    RecordingError     409  recording_problem   (nothing changed; a person must look at it)
    StorageError       503  storage_failed      StorageUnavailableError  storage_unavailable
    ProfileNotFilledInError 503 profile_not_filled_in (the public notice page)
    TooManyAttemptsError 429 too_many_attempts  (the sign-in page says when to try again,
                                                with a Retry-After header)
    anything else      500  internal            a fault of ours: logged with its traceback,
                                                the message is never shown
"""

from __future__ import annotations

from typing import ClassVar


class CallrecError(Exception):
    """Base of every exception callrec raises on purpose."""

    http_status: ClassVar[int] = 500
    error_id: ClassVar[str] = "internal"


class ConfigError(CallrecError):
    """The configuration is missing, unreadable or has a bad key."""


class ProfileNotFilledInError(ConfigError):
    """The organisation profile is the placeholder: nothing may be published from it."""

    http_status = 503
    error_id = "profile_not_filled_in"


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

    # Nothing was changed and the row needs a person to look at it: a conflict, not bad input.
    http_status = 409
    error_id = "recording_problem"


class StorageError(CallrecError):
    """The recording store (a folder or an S3 bucket) refused a request: the bucket does not
    exist, the credentials were refused, the folder is not writable."""

    http_status = 503
    error_id = "storage_failed"


class StorageUnavailableError(StorageError):
    """The object store did not answer, or answered that it is unwell (5xx): worth retrying."""

    error_id = "storage_unavailable"


class SandboxError(CallrecError):
    """The local Asterisk sandbox could not be built, started or stopped."""


class DatabaseError(CallrecError):
    """The database could not be reached or refused a statement."""


class InputError(CallrecError):
    """Input from a person or another program is invalid; nothing was changed."""

    http_status = 400
    error_id = "invalid_input"


class NumberError(InputError):
    """A phone number could not be read as one."""

    error_id = "invalid_number"


class NotFoundError(CallrecError):
    """A call, hold, request or file that was asked for does not exist."""

    http_status = 404
    error_id = "not_found"


class ForbiddenError(CallrecError):
    """The acting person's role does not allow this operation on this call."""

    http_status = 403
    error_id = "forbidden"


class NotSignedInError(ForbiddenError):
    """Nobody is signed in (the web app sends pages to the sign-in form instead)."""

    http_status = 401
    error_id = "not_signed_in"


class CsrfError(ForbiddenError):
    """A state-changing request lacked the session's CSRF token or came from another site."""

    error_id = "csrf_refused"


class TooManyAttemptsError(CallrecError):
    """Too many sign-in attempts from one address, or too many being checked at once."""

    http_status = 429
    error_id = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
