"""The encrypted recording file: AES-256-GCM in chunks, so any byte range decrypts on its own.

::

    header (40 bytes)
      magic      4  b"CREC"
      version    1  1
      chunk_log  1  log2 of the plaintext chunk size (16: 64 KiB)
      reserved   2  zero
      file_id   16  random, names this file in every chunk's associated data
      prefix     8  random nonce prefix of this file
      size       8  the plaintext's length in bytes (little-endian)
    chunk 0 .. n-1
      ciphertext of plaintext[i * C : (i + 1) * C], then the 16-byte GCM tag

Chunk ``i`` is sealed with the nonce ``prefix || i`` (4 bytes, big-endian) and the associated
data ``header || i (8 bytes) || last (1 byte)``: a chunk moved, dropped, repeated, taken from
another file or given another header fails to open, and so does a file cut short (its header
still says how many chunks there are). One data key may seal several files (a recording's mix
and its two legs): each file's random prefix keeps their nonces apart.

Decrypting the range ``[a, b)`` reads and opens only the chunks that hold it.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from callrec_ari.errors import RecordingError

MAGIC = b"CREC"
VERSION = 1
KEY_BYTES = 32
TAG_BYTES = 16
CHUNK_LOG = 16  # 64 KiB of plaintext a chunk: a 16-byte tag adds 0.02 %, a seek reads 64 KiB
_HEADER = struct.Struct("<4sBBH16s8sQ")
HEADER_BYTES = _HEADER.size
_MAX_CHUNKS = 1 << 32  # the nonce's counter is 4 bytes


@dataclass(frozen=True, kw_only=True)
class Header:
    """What the first bytes of an encrypted file say about it."""

    chunk_log: int
    file_id: bytes
    prefix: bytes
    size: int  # of the plaintext
    raw: bytes  # the header's bytes, bound into every chunk

    @property
    def chunk_size(self) -> int:
        """Plaintext bytes in every chunk but the last."""
        return 1 << self.chunk_log

    @property
    def chunks(self) -> int:
        """How many chunks the file holds (one, empty, for an empty plaintext)."""
        return max(1, -(-self.size // self.chunk_size))

    @property
    def encrypted_size(self) -> int:
        """The length the encrypted file must have."""
        return HEADER_BYTES + self.size + self.chunks * TAG_BYTES

    def nonce(self, index: int) -> bytes:
        """The nonce of chunk ``index``."""
        return self.prefix + struct.pack(">I", index)

    def associated(self, index: int) -> bytes:
        """The associated data of chunk ``index``."""
        return self.raw + struct.pack(">QB", index, index == self.chunks - 1)


def new_header(size: int, *, chunk_log: int = CHUNK_LOG) -> Header:
    """A header with a fresh file id and nonce prefix for ``size`` bytes of plaintext."""
    file_id, prefix = secrets.token_bytes(16), secrets.token_bytes(8)
    raw = _HEADER.pack(MAGIC, VERSION, chunk_log, 0, file_id, prefix, size)
    header = parse_header(raw)
    if header.chunks > _MAX_CHUNKS:
        raise RecordingError(f"A recording of {size} bytes is too large to encrypt.")
    return header


def parse_header(raw: bytes) -> Header:
    """The header in ``raw``; ``RecordingError`` if it is not one this version writes."""
    if len(raw) < HEADER_BYTES:
        raise RecordingError("The file is too short to be an encrypted recording.")
    magic, version, chunk_log, reserved, file_id, prefix, size = _HEADER.unpack_from(raw)
    if magic != MAGIC:
        raise RecordingError("The file is not an encrypted recording (no CREC header).")
    if version != VERSION or reserved or not 10 <= chunk_log <= 24:
        raise RecordingError(f"The encrypted recording has an unknown format (version {version}).")
    return Header(
        chunk_log=chunk_log, file_id=file_id, prefix=prefix, size=size, raw=raw[:HEADER_BYTES]
    )


@dataclass(frozen=True, kw_only=True)
class Sealed:
    """What encrypting one file found in its plaintext."""

    size: int
    sha256: str


def encrypt_file(source: Path, target: Path, key: bytes, *, chunk_log: int = CHUNK_LOG) -> Sealed:
    """Encrypt ``source`` into a new file ``target`` (mode 0600, flushed to disk) with ``key``.

    Returns the plaintext's size and SHA-256 as read, so the caller can check them against
    what was measured before. ``OSError`` if a file cannot be read or written.
    """
    aead = AESGCM(key)
    digest = hashlib.sha256()
    with source.open("rb") as plain:
        size = os.fstat(plain.fileno()).st_size
        header = new_header(size, chunk_log=chunk_log)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(header.raw)
            for index in range(header.chunks):
                block = plain.read(header.chunk_size)
                digest.update(block)
                out.write(aead.encrypt(header.nonce(index), block, header.associated(index)))
            if plain.read(1):
                raise RecordingError(f"The recording {source} grew while it was encrypted.")
            out.flush()
            os.fsync(out.fileno())
    return Sealed(size=size, sha256=digest.hexdigest())


class DecryptingReader(io.RawIOBase):
    """A read-only, seekable view of an encrypted file's plaintext.

    Reads open only the chunks they touch (the last one opened is kept, so sequential reads
    open each chunk once). ``RecordingError`` when a chunk fails to authenticate: the file
    was changed, cut short, or the key is not its key.
    """

    def __init__(self, handle: BinaryIO, key: bytes, *, name: str = "recording") -> None:
        self._handle = handle
        self._aead = AESGCM(key)
        self._name = name
        handle.seek(0)
        self.header = parse_header(handle.read(HEADER_BYTES))
        actual = handle.seek(0, os.SEEK_END)
        if actual != self.header.encrypted_size:
            raise RecordingError(
                f"The encrypted recording {name} is {actual} bytes, not the "
                f"{self.header.encrypted_size} its header promises: it was cut or changed."
            )
        self._position = 0
        self._cached: tuple[int, bytes] | None = None

    @property
    def size(self) -> int:
        """The plaintext's length in bytes."""
        return self.header.size

    def readable(self) -> bool:
        """Always: this is a reader."""
        return True

    def seekable(self) -> bool:
        """Always: any position can be read from."""
        return True

    def tell(self) -> int:
        """The current plaintext position."""
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move to a plaintext position, as files do."""
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        """Fill ``buffer`` from the current position; 0 at the end."""
        data = self.read_range(self._position, self._position + len(buffer))
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def read_range(self, start: int, end: int) -> bytes:
        """The plaintext bytes ``[start, end)``, clipped to the file's length."""
        end = min(end, self.size)
        if start >= end:
            return b""
        chunk_size = self.header.chunk_size
        parts = []
        for index in range(start // chunk_size, (end - 1) // chunk_size + 1):
            plain = self._chunk(index)
            offset = index * chunk_size
            parts.append(plain[max(start - offset, 0) : end - offset])
        return b"".join(parts)

    def _chunk(self, index: int) -> bytes:
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        header = self.header
        stored = header.chunk_size + TAG_BYTES
        self._handle.seek(HEADER_BYTES + index * stored)
        sealed = self._handle.read(stored)
        try:
            plain = self._aead.decrypt(header.nonce(index), sealed, header.associated(index))
        except InvalidTag:
            raise RecordingError(
                f"The encrypted recording {self._name} cannot be decrypted (chunk {index}): "
                "it was changed, or its key is not the one it was sealed with."
            ) from None
        self._cached = (index, plain)
        return plain

    def close(self) -> None:
        """Close the underlying file too."""
        if not self.closed:
            self._handle.close()
        super().close()


def open_encrypted(path: Path, key: bytes) -> io.BufferedReader:
    """``path``'s plaintext as a buffered, seekable binary file (``wave.open`` takes it)."""
    handle = path.open("rb")
    try:
        reader = DecryptingReader(handle, key, name=path.name)
    except BaseException:
        handle.close()
        raise
    return io.BufferedReader(reader, buffer_size=1 << CHUNK_LOG)
