"""Plaintext ranges of an encrypted recording read from a store: the header, then just the
chunks that hold the range, in a folder and in a bucket alike."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from callrec_ari.crypto.format import HEADER_BYTES, TAG_BYTES, encrypt_file, new_header
from callrec_ari.errors import NotFoundError, RecordingError
from callrec_ari.storage import RecordingStore
from callrec_ari.storage.encrypted_range import (
    cipher_span,
    open_object,
    plaintext,
    read_range,
)

CHUNK = 1024  # chunk_log 10: many chunks in a small file
KEY = "2026/12/02/1.wav.enc"


@pytest.fixture
def data_key() -> bytes:
    """A recording's random data key."""
    return secrets.token_bytes(32)


async def _stored(store: RecordingStore, tmp_path: Path, plain: bytes, data_key: bytes) -> None:
    source = tmp_path / "plain.wav"
    source.write_bytes(plain)
    sealed = tmp_path / "plain.wav.enc"
    encrypt_file(source, sealed, data_key, chunk_log=10)
    await store.put(KEY, sealed)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (0, None),  # the whole file
        (0, 1),  # the first byte
        (CHUNK * 3 + 500 - 1, None),  # the last byte
        (CHUNK - 1, CHUNK + 1),  # across a chunk boundary
        (CHUNK, 2 * CHUNK),  # exactly one chunk
        (2 * CHUNK, 3 * CHUNK + 500),  # the short last chunk and the one before
        (100, 3 * CHUNK + 10_000),  # an end past the file: clamped
        (3 * CHUNK + 500, None),  # at the end: nothing
    ],
)
async def test_any_range_decrypts_to_the_plaintext_s_bytes(
    store: RecordingStore, tmp_path: Path, data_key: bytes, start: int, end: int | None
):
    """Ranges at chunk boundaries, the first and last byte and the whole file give exactly
    the plaintext's bytes."""
    plain = secrets.token_bytes(3 * CHUNK + 500)
    await _stored(store, tmp_path, plain, data_key)
    encrypted = await open_object(store, KEY)
    assert encrypted.size == len(plain)
    assert await read_range(encrypted, data_key, start, end) == plain[start:end]


def test_only_the_chunks_holding_the_range_are_asked_for():
    """[1023, 1025) needs chunks 0 and 1: the header's end to the end of chunk 1."""
    header = new_header(3 * CHUNK + 500, chunk_log=10)
    stored = CHUNK + TAG_BYTES
    assert cipher_span(header, CHUNK - 1, CHUNK + 1) == (0, HEADER_BYTES, HEADER_BYTES + 2 * stored)
    assert cipher_span(header, 2 * CHUNK, 2 * CHUNK + 1) == (
        2,
        HEADER_BYTES + 2 * stored,
        HEADER_BYTES + 3 * stored,
    )


async def test_an_empty_recording_has_no_bytes(store: RecordingStore, tmp_path: Path, data_key):
    """A WAV of no bytes (never happens, but must not break): size 0, nothing read."""
    await _stored(store, tmp_path, b"", data_key)
    encrypted = await open_object(store, KEY)
    assert encrypted.size == 0
    assert [piece async for piece in plaintext(encrypted, data_key)] == []


async def test_a_wrong_key_a_changed_chunk_and_a_cut_object_fail(
    store: RecordingStore, tmp_path: Path, data_key: bytes
):
    """Another key, a flipped byte or a shortened object: RecordingError, never wrong audio."""
    plain = secrets.token_bytes(2 * CHUNK)
    await _stored(store, tmp_path, plain, data_key)
    encrypted = await open_object(store, KEY)
    with pytest.raises(RecordingError, match="cannot be decrypted"):
        await read_range(encrypted, secrets.token_bytes(32), 0, 10)
    sealed = bytearray((tmp_path / "plain.wav.enc").read_bytes())
    sealed[HEADER_BYTES + CHUNK + TAG_BYTES + 5] ^= 1  # in chunk 1
    changed = tmp_path / "changed.enc"
    changed.write_bytes(bytes(sealed))
    await store.put(KEY, changed)
    encrypted = await open_object(store, KEY)
    assert await read_range(encrypted, data_key, 0, CHUNK) == plain[:CHUNK]  # chunk 0 is fine
    with pytest.raises(RecordingError, match=r"chunk 1"):
        await read_range(encrypted, data_key, CHUNK, CHUNK + 1)
    changed.write_bytes(bytes(sealed[:-1]))
    await store.put(KEY, changed)
    with pytest.raises(RecordingError, match="cut or changed"):
        await open_object(store, KEY)


async def test_a_missing_object_is_not_found(store: RecordingStore):
    """No object under the key: NotFoundError, as for any read."""
    with pytest.raises(NotFoundError):
        await open_object(store, KEY)
