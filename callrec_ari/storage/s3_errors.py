"""The S3 client's exceptions as callrec's: one sentence naming the bucket and endpoint.

    ClientError NoSuchKey / 404 .................. NotFoundError      (head: None)
    ClientError NoSuchBucket ..................... StorageError       "... does not exist."
    ClientError InvalidAccessKeyId, Signature..., 403  StorageError   "... refused callrec's
                                                                       credentials (code)."
    ClientError AccessDenied ..................... StorageError       "... does not allow ..."
    ClientError 5xx, SlowDown, InternalError ..... StorageUnavailableError (worth retrying)
    NoCredentialsError ........................... StorageError       "No credentials ..."
    connection refused, reset, timed out ......... StorageUnavailableError "... cannot be
                                                                       reached (why)."

Secrets never appear: the sentences name the bucket, the endpoint and the store's own code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import aiohttp
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from callrec_ari.errors import CallrecError, NotFoundError, StorageError, StorageUnavailableError

_REFUSED_CREDENTIALS = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "403"}
)
_UNWELL = frozenset(
    {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "Throttling"}
)
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


@contextlib.contextmanager
def translated(where: str, doing: str, key: str = "") -> Iterator[None]:
    """Raise the client's exceptions inside the block as callrec's; ``where`` names the
    bucket and endpoint, ``doing`` the request (``store 2026/12/02/x.wav``)."""
    try:
        yield
    except ClientError as exc:
        raise refused(exc, where, doing, key) from None
    except NoCredentialsError:
        raise StorageError(
            f"No credentials for the {where}: set [storage] access_key_id and "
            "secret_access_key, or their environment variables."
        ) from None
    except (BotoCoreError, aiohttp.ClientError, TimeoutError) as exc:
        raise StorageUnavailableError(
            f"The {where} cannot be reached ({unreachable(exc)})."
        ) from None


def refused(exc: ClientError, where: str, doing: str, key: str) -> CallrecError:
    """The error for an answer the store gave: missing, refused, or unwell."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "")) or "no code"
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    if code in _MISSING:
        return NotFoundError(f"There is no object {key or '?'} in the {where}.")
    if code == "NoSuchBucket":
        return StorageError(f"The {where} does not exist.")
    if code in _REFUSED_CREDENTIALS:
        return StorageError(f"The {where} refused callrec's credentials ({code}).")
    if code == "AccessDenied":
        return StorageError(f"The {where} does not allow callrec to {doing} (AccessDenied).")
    if code in _UNWELL or status >= 500:
        return StorageUnavailableError(f"The {where} failed to {doing} ({code}).")
    return StorageError(f"The {where} refused to {doing} ({code}).")


def unreachable(exc: BaseException) -> str:
    """Why no answer came, in a few words."""
    if isinstance(exc, EndpointConnectionError):
        return "no connection"
    if isinstance(exc, ConnectTimeoutError):
        return "the connection timed out"
    if isinstance(exc, ReadTimeoutError | TimeoutError):
        return "no answer in time"
    if isinstance(exc, ConnectionClosedError):
        return "the connection was closed"
    return type(exc).__name__
