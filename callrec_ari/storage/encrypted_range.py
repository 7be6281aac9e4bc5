"""Any byte range of an encrypted recording's plaintext, read from a store with two requests.

An encrypted file (``crypto/format.py``) is a header and chunks of ``C`` plaintext bytes,
each sealed with a 16-byte tag. The plaintext range ``[a, b)`` lies in chunks ``a // C`` to
``(b - 1) // C``, which are stored back to back::

    ciphertext offset of chunk i = HEADER_BYTES + i * (C + TAG_BYTES)

So a reader asks the store for the header (one ranged GET of ``HEADER_BYTES``; its size is
checked against the object's), then for exactly those chunks (one ranged GET), opens each as
it arrives and yields the part of it that lies in the range. A chunk is opened with the
same nonce and associated data as ``DecryptingReader``'s, so a moved, cut or changed chunk
fails the same way: ``RecordingError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from callrec_ari.crypto.format import HEADER_BYTES, TAG_BYTES, Header, parse_header
from callrec_ari.errors import RecordingError
from callrec_ari.recording.audio import StoredAudio
from callrec_ari.storage.port import RecordingStore


@dataclass(frozen=True, kw_only=True)
class EncryptedObject:
    """An encrypted recording in a store, its header read: ready for range reads."""

    store: RecordingStore
    key: str  # the object's storage key
    header: Header

    @property
    def size(self) -> int:
        """The plaintext's length in bytes."""
        return self.header.size


async def open_object(store: RecordingStore, key: str) -> EncryptedObject:
    """Read the header of the object ``key``; ``NotFoundError`` if there is none,
    ``RecordingError`` if it is no encrypted recording or its length is not the header's."""
    stream = await store.read(key, 0, HEADER_BYTES)
    header = parse_header(await stream.read_all())
    if stream.total != header.encrypted_size:
        raise RecordingError(
            f"The encrypted recording {key} is {stream.total} bytes, not the "
            f"{header.encrypted_size} its header promises: it was cut or changed."
        )
    return EncryptedObject(store=store, key=key, header=header)


def cipher_span(header: Header, start: int, end: int) -> tuple[int, int, int]:
    """For the plaintext ``[start, end)`` (within the file, non-empty): the first chunk's
    index and the ciphertext range ``[first byte, end)`` of the chunks that hold it."""
    stored = header.chunk_size + TAG_BYTES
    first = start // header.chunk_size
    last = (end - 1) // header.chunk_size
    return first, HEADER_BYTES + first * stored, HEADER_BYTES + (last + 1) * stored


async def plaintext(
    encrypted: EncryptedObject, data_key: bytes, start: int = 0, end: int | None = None
) -> AsyncGenerator[bytes, None]:
    """The plaintext bytes ``[start, end)`` (``end`` None: to the end; clamped to the
    file), decrypted a chunk at a time as they arrive from one ranged GET."""
    header = encrypted.header
    end = header.size if end is None else min(end, header.size)
    if start >= end:
        return
    aead = AESGCM(data_key)
    index, cipher_start, cipher_end = cipher_span(header, start, end)
    stored = header.chunk_size + TAG_BYTES
    pending = bytearray()
    async with await encrypted.store.read(encrypted.key, cipher_start, cipher_end) as stream:
        async for piece in stream:
            pending += piece
            while len(pending) >= stored or (pending and _is_last(header, index, pending)):
                size = min(stored, len(pending))
                plain = _open(aead, header, index, bytes(pending[:size]), encrypted.key)
                del pending[:size]
                offset = index * header.chunk_size
                yield plain[max(start - offset, 0) : end - offset]
                index += 1
    if pending or index * header.chunk_size < end:
        raise RecordingError(
            f"The encrypted recording {encrypted.key} ended before the range asked of it."
        )


def _is_last(header: Header, index: int, pending: bytearray) -> bool:
    """Whether ``pending`` holds all of chunk ``index`` when it is the file's short last one."""
    if index != header.chunks - 1:
        return False
    return len(pending) == header.size - index * header.chunk_size + TAG_BYTES


def _open(aead: AESGCM, header: Header, index: int, sealed: bytes, name: str) -> bytes:
    try:
        return aead.decrypt(header.nonce(index), sealed, header.associated(index))
    except InvalidTag:
        raise RecordingError(
            f"The encrypted recording {name} cannot be decrypted (chunk {index}): it was "
            "changed, or its key is not the one it was sealed with."
        ) from None


async def read_range(
    encrypted: EncryptedObject, data_key: bytes, start: int, end: int | None = None
) -> bytes:
    """``plaintext`` joined: for small ranges."""
    return b"".join([piece async for piece in plaintext(encrypted, data_key, start, end)])


@contextlib.asynccontextmanager
async def downloaded(encrypted: EncryptedObject, data_key: bytes) -> AsyncIterator[StoredAudio]:
    """The whole object fetched to a private temporary file (mode 0600, removed on leaving),
    as a ``StoredAudio`` for the readers that read a file from start to end (waveform,
    SHA-256, export, copies). Only ciphertext is written: the plaintext stays in memory."""
    fd, name = await asyncio.to_thread(
        tempfile.mkstemp, prefix="callrec-fetched-", suffix=".enc"
    )  # mkstemp makes it 0600
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            async with await encrypted.store.read(encrypted.key) as stream:
                async for piece in stream:
                    await asyncio.to_thread(out.write, piece)
        yield StoredAudio(path=path, key=data_key)
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)
