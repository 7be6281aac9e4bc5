"""What callrec needs from the place finished recordings are kept: the ``RecordingStore``.

Keys are relative POSIX paths (``2026/12/02/<uniqueid>.wav``), the same ones the database
rows hold; each store maps them onto its own namespace (a folder, a bucket and prefix).

Reads are ranges, ``[start, end)``, delivered as a ``ByteStream`` of chunks: the web player
answers HTTP Range requests without reading the whole file, and an encryption layer above a
store asks only for the ciphertext chunks that cover the plaintext range it was asked for.
The request is made when ``read`` is awaited, so a missing object raises before a caller has
sent any response headers; the chunks then arrive while the caller iterates.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from callrec_ari.errors import InputError

MAX_KEY_BYTES = 1024  # S3's limit on a key, prefix included
CHUNK_BYTES = 64 * 1024  # what a read hands over at a time
HASH_CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class ObjectInfo:
    """One stored object: its key, its size in bytes and when it was last written."""

    key: str
    size: int
    modified_at: datetime
    # The SHA-256 stored with the object, when the store hands it over with the size (S3's
    # HEAD does: one request confirms both); None: ask ``checksum``.
    sha256: str | None = None
    # True when the store itself checked the bytes it received against a digest sent with
    # them (S3: a single PUT's Content-MD5, which a mismatch fails with BadDigest, and an ETag
    # that is that MD5): size and SHA-256 are then confirmed without asking again.
    verified: bool = False


class ByteStream:
    """The bytes ``[start, start + length)`` of an object of ``total`` bytes, as chunks.

    Iterate it (``async for chunk in stream``) and close it, or use it as an async context
    manager; closing early releases the connection or file behind it.
    """

    def __init__(
        self, chunks: AsyncGenerator[bytes, None], *, start: int, length: int, total: int
    ) -> None:
        self._chunks = chunks
        self.start = start
        self.length = length
        self.total = total

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks

    async def aclose(self) -> None:
        """Stop reading and release what the stream holds."""
        await self._chunks.aclose()

    async def read_all(self) -> bytes:
        """Every remaining chunk joined (for small ranges: a header, one encrypted chunk)."""
        try:
            return b"".join([chunk async for chunk in self._chunks])
        finally:
            await self.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


async def _no_chunks() -> AsyncGenerator[bytes, None]:
    return
    yield  # pragma: no cover - makes this an async generator


def empty_stream(start: int, total: int) -> ByteStream:
    """A stream of no bytes: a range that starts at or past the end of the object."""
    return ByteStream(_no_chunks(), start=start, length=0, total=total)


class RecordingStore(Protocol):
    """Where finished recordings are kept. Every method may raise ``StorageError``
    (``StorageUnavailableError`` when the store cannot be reached, worth retrying)."""

    @property
    def description(self) -> str:
        """Where the store is, for logs and messages: a folder, or a bucket at an endpoint."""

    async def put(self, key: str, source: Path, *, sha256: str | None = None) -> ObjectInfo:
        """Store the finished file ``source`` under ``key``, replacing any object there;
        large files go in parts. ``sha256`` (hex) saves hashing the file again."""

    async def read(self, key: str, start: int = 0, end: int | None = None) -> ByteStream:
        """The bytes ``[start, end)`` of the object (``end`` None: to its end), clamped to the
        object's size. Raises ``NotFoundError`` if there is no such object."""

    async def head(self, key: str) -> ObjectInfo | None:
        """The object's size and time, or None if there is none under ``key``."""

    async def checksum(self, key: str) -> str | None:
        """The SHA-256 (hex) of the object as stored, or None if there is none (or the store
        does not know it: an object callrec did not write)."""

    async def delete(self, key: str) -> None:
        """Remove the object; nothing happens if it is already gone."""

    async def delete_many(self, keys: Iterable[str]) -> int:
        """Remove many objects in batches (a purge); gone ones count as removed. Returns how
        many keys were handled."""

    def objects(
        self, prefix: str = "", *, start_after: str = ""
    ) -> AsyncGenerator[ObjectInfo, None]:
        """Every object whose key starts with ``prefix`` (and, if given, sorts after
        ``start_after``), fetched page by page. The order is the store's: AWS sorts by key,
        SeaweedFS lists folder by folder, each folder's keys sorted. Close the generator
        (``contextlib.aclosing``) when leaving it before its end."""

    async def close(self) -> None:
        """Release connections; the store is not used afterwards."""


def check_key(key: str) -> str:
    """``key`` if it is a relative path that stays inside the store, else ``InputError``."""
    parts = key.split("/")
    if (
        not key
        or len(key.encode("utf-8")) > MAX_KEY_BYTES
        or any(part in {"", ".", ".."} for part in parts)
        or "\\" in key
        or any(ord(char) < 32 for char in key)
    ):
        raise InputError(f"The storage key {key!r} is not a relative path inside the store.")
    return key


def check_prefix(prefix: str) -> str:
    """``prefix`` if it may start keys: empty, or a key's beginning (ending in ``/`` or not)."""
    if prefix:
        check_key(prefix.removesuffix("/"))
    return prefix


def check_range(start: int, end: int | None) -> None:
    """Refuse a range that is negative or ends before it starts."""
    if start < 0 or (end is not None and end < start):
        raise InputError(f"The byte range [{start}, {end}) is not a valid range.")


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, hex; blocking, so call it in a thread."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(HASH_CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()
