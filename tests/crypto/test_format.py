"""The encrypted file format: round trips, random access, and every tampering refused."""

from __future__ import annotations

import hashlib
import random
import wave

import pytest

from callrec_ari.crypto.format import (
    HEADER_BYTES,
    TAG_BYTES,
    DecryptingReader,
    encrypt_file,
    open_encrypted,
)
from callrec_ari.crypto.keys import new_data_key
from callrec_ari.errors import RecordingError
from tests.support.audio import write_speech_like_wav

CHUNK_LOG = 10  # 1 KiB chunks: many chunks from a small file


@pytest.fixture
def plain(tmp_path):
    path = tmp_path / "call.wav"
    write_speech_like_wav(path, 0.7)  # 11 244 bytes: eleven chunks, the last one short
    return path


def sealed(plain, key, chunk_log=CHUNK_LOG):
    target = plain.with_name(plain.name + ".enc")
    encrypt_file(plain, target, key, chunk_log=chunk_log)
    return target


def test_round_trip_gives_back_every_byte_and_reports_the_plaintext_hash(plain):
    """Decrypting the whole file gives the WAV back; sealing reports its size and SHA-256."""
    key = new_data_key()
    target = plain.with_name("call.wav.enc")
    found = encrypt_file(plain, target, key, chunk_log=CHUNK_LOG)
    data = plain.read_bytes()
    assert found.size == len(data)
    assert found.sha256 == hashlib.sha256(data).hexdigest()
    with open_encrypted(target, key) as handle:
        assert handle.read() == data
    assert data[:64] not in target.read_bytes()  # the header of the WAV is not readable


def test_the_encrypted_file_is_private_and_only_tags_and_a_header_longer(plain):
    """The sealed file is mode 0600 and grows by the header plus one tag per chunk."""
    target = sealed(plain, new_data_key())
    chunks = -(-plain.stat().st_size // (1 << CHUNK_LOG))
    assert target.stat().st_mode & 0o777 == 0o600
    assert target.stat().st_size == plain.stat().st_size + HEADER_BYTES + chunks * TAG_BYTES


def test_arbitrary_ranges_match_the_plaintext(plain):
    """Any [a, b) range, across chunk edges or not, decrypts to the same bytes as the WAV."""
    key = new_data_key()
    target = sealed(plain, key)
    data = plain.read_bytes()
    rng = random.Random(14)  # noqa: S311 - reproducible test ranges, not a secret
    edges = [0, 1, 1023, 1024, 1025, 2048, len(data) - 1, len(data)]
    spans = [(a, b) for a in edges for b in edges if a <= b]
    spans += [tuple(sorted(rng.sample(range(len(data) + 1), 2))) for _ in range(200)]
    with target.open("rb") as handle:
        reader = DecryptingReader(handle, key)
        for start, end in spans:
            assert reader.read_range(start, end) == data[start:end], (start, end)
        assert reader.read_range(len(data) - 5, len(data) + 100) == data[-5:]


def test_a_range_reads_only_the_chunks_that_hold_it(plain):
    """Decrypting bytes inside one chunk reads that chunk alone from the disk."""
    key = new_data_key()
    target = sealed(plain, key)

    class Counting:
        def __init__(self, handle):
            self.handle, self.read_bytes = handle, 0

        def seek(self, *args):
            return self.handle.seek(*args)

        def read(self, size=-1):
            data = self.handle.read(size)
            self.read_bytes += len(data)
            return data

        def close(self):
            self.handle.close()

    counting = Counting(target.open("rb"))
    reader = DecryptingReader(counting, key)
    counting.read_bytes = 0
    assert reader.read_range(5000, 5100) == plain.read_bytes()[5000:5100]
    assert counting.read_bytes == (1 << CHUNK_LOG) + TAG_BYTES
    reader.close()


def test_wave_reads_an_encrypted_recording_like_a_plain_one(plain):
    """The decrypting file is seekable enough for the standard wave module."""
    key = new_data_key()
    target = sealed(plain, key, chunk_log=16)
    with (
        wave.open(str(plain), "rb") as expected,
        open_encrypted(target, key) as handle,
        wave.open(handle, "rb") as wav,
    ):
        assert wav.getnframes() == expected.getnframes()
        assert wav.readframes(10_000) == expected.readframes(10_000)


def test_an_empty_file_round_trips(tmp_path):
    """A zero-byte file seals to one empty chunk and opens to nothing."""
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    key = new_data_key()
    target = sealed(empty, key)
    with open_encrypted(target, key) as handle:
        assert handle.read() == b""


def test_the_wrong_key_is_refused(plain):
    """Another key does not open the file: a clear RecordingError, no garbage audio."""
    target = sealed(plain, new_data_key())
    with (
        pytest.raises(RecordingError, match="cannot be decrypted"),
        open_encrypted(target, new_data_key()) as handle,
    ):
        handle.read()


def test_a_flipped_bit_is_refused(plain):
    """Changing one byte of a chunk makes reading that chunk fail."""
    key = new_data_key()
    target = sealed(plain, key)
    data = bytearray(target.read_bytes())
    data[HEADER_BYTES + 3000] ^= 1
    target.write_bytes(bytes(data))
    with target.open("rb") as handle:
        reader = DecryptingReader(handle, key)
        assert reader.read_range(0, 100)  # chunk 0 is untouched
        with pytest.raises(RecordingError, match="chunk 2"):
            reader.read_range(2100, 2200)


def test_swapped_chunks_are_refused(plain):
    """Two chunks exchanged in place fail: the chunk index is bound to each."""
    key = new_data_key()
    target = sealed(plain, key)
    data = target.read_bytes()
    size = (1 << CHUNK_LOG) + TAG_BYTES
    first, second = (data[HEADER_BYTES + i * size : HEADER_BYTES + (i + 1) * size] for i in (0, 1))
    swapped = data[:HEADER_BYTES] + second + first + data[HEADER_BYTES + 2 * size :]
    target.write_bytes(swapped)
    with pytest.raises(RecordingError), open_encrypted(target, key) as handle:
        handle.read(100)


def test_a_truncated_file_is_refused(plain):
    """A file cut after whole chunks is refused: its header says how long it must be."""
    key = new_data_key()
    target = sealed(plain, key)
    size = (1 << CHUNK_LOG) + TAG_BYTES
    target.write_bytes(target.read_bytes()[: HEADER_BYTES + 3 * size])
    with pytest.raises(RecordingError, match="cut or changed"):
        open_encrypted(target, key)


def test_a_chunk_from_another_file_with_the_same_key_is_refused(plain, tmp_path):
    """Files sealed with one key (a mix and its legs) cannot lend each other chunks."""
    key = new_data_key()
    one = sealed(plain, key)
    other_plain = tmp_path / "other.wav"
    other_plain.write_bytes(plain.read_bytes())
    other = sealed(other_plain, key)
    mixed = one.read_bytes()[:HEADER_BYTES] + other.read_bytes()[HEADER_BYTES:]
    one.write_bytes(mixed)
    with pytest.raises(RecordingError), open_encrypted(one, key) as handle:
        handle.read(100)


def test_a_file_that_is_not_encrypted_is_named_as_such(plain):
    """A plain WAV handed to the decrypter is refused in one sentence."""
    with pytest.raises(RecordingError, match="not an encrypted recording"):
        open_encrypted(plain, new_data_key())
