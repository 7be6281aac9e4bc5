"""Reading a recording's audio, plain or encrypted: the one seam every reader goes through.

A recording's file is either the plain WAV MixMonitor wrote (``<name>.wav``: while the call
lasts, on installs without encryption, and recordings made before it was turned on) or,
once sealed (``recording/seal.py``), ``<name>.wav.enc`` (``crypto/format.py``). Readers ask
``stored_audio`` for the file and open it as a seekable binary file of the WAV's bytes,
whichever it is. The plain file wins when both exist: that only happens for the moment
between a sealed file's rename and the plain file's removal, when both hold the same audio.

Object storage (issue 14 §2) would replace what is behind ``StoredAudio.open``.
"""

from __future__ import annotations

import hashlib
import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from callrec_ari.crypto.format import DecryptingReader, open_encrypted
from callrec_ari.errors import RecordingError

ENCRYPTED_SUFFIX = ".enc"
_COPY_CHUNK = 1 << 20


def sealed_path(plain: Path) -> Path:
    """Where the encrypted form of the plain file ``plain`` is kept."""
    return plain.with_name(plain.name + ENCRYPTED_SUFFIX)


@dataclass(frozen=True, kw_only=True)
class StoredAudio:
    """One audio file as stored: ``path`` is plain, or encrypted with ``key``."""

    path: Path
    key: bytes | None = field(default=None, repr=False)

    @property
    def encrypted(self) -> bool:
        """Whether the file on disk is the encrypted form."""
        return self.key is not None

    def open(self) -> io.BufferedReader:
        """The WAV's bytes as a seekable binary file; ``OSError`` if the file is gone,
        ``RecordingError`` if an encrypted one does not open."""
        if self.key is None:
            return self.path.open("rb")
        return open_encrypted(self.path, self.key)

    def size(self) -> int:
        """The WAV's length in bytes (of the plaintext, for an encrypted file)."""
        if self.key is None:
            return self.path.stat().st_size
        with self.path.open("rb") as handle:
            return DecryptingReader(handle, self.key, name=self.path.name).size

    def read_range(self, start: int, end: int) -> bytes:
        """The WAV's bytes ``[start, end)``, reading (and decrypting) only those."""
        with self.open() as handle:
            handle.seek(start)
            return handle.read(max(end - start, 0))


def stored_audio(plain: Path, key: bytes | None) -> StoredAudio | None:
    """The stored file of the audio whose plain name is ``plain``; None if neither form exists.

    ``RecordingError`` if only the encrypted form exists and there is no ``key`` for it
    (its key row was destroyed, or encryption is not configured in this process).
    """
    if plain.is_file():
        return StoredAudio(path=plain)
    sealed = sealed_path(plain)
    if not sealed.is_file():
        return None
    if key is None:
        raise RecordingError(f"The recording {plain.name} is encrypted and its key is gone.")
    return StoredAudio(path=sealed, key=key)


def exists(plain: Path) -> bool:
    """Whether the audio whose plain name is ``plain`` exists in either form."""
    return plain.exists() or sealed_path(plain).exists()


def remove(plain: Path) -> bool:
    """Delete the audio whose plain name is ``plain`` in both forms; whether any existed."""
    existed = False
    for path in (plain, sealed_path(plain)):
        try:
            path.unlink()
            existed = True
        except FileNotFoundError:
            pass
    return existed


def sha256_of(audio: StoredAudio) -> str:
    """The SHA-256 of the WAV's bytes (the plaintext's, for an encrypted file)."""
    with audio.open() as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def copy_plain(audio: StoredAudio, target: Path) -> None:
    """Write the WAV's bytes to ``target`` (decrypted, for an encrypted file)."""
    with audio.open() as source, target.open("wb") as out:
        shutil.copyfileobj(source, out, _COPY_CHUNK)
