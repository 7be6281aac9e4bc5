"""Tone captures for the phones: G.711 a-law as the standard has it, and a capture that keeps
sipp's packets and timing while carrying the tone."""

from __future__ import annotations

import array
import audioop  # deprecated but still in Python 3.11: an independent G.711 reference
import struct
from pathlib import Path

import pytest

from callrec_ari.errors import SandboxError
from callrec_ari.sandbox.sipp import AUDIO_PCAP
from callrec_ari.sandbox.tones import alaw, tone_pcap
from tests.support.audio import tone_power

RTP_AUDIO = 14 + 20 + 8 + 12


def test_every_sample_encodes_as_the_reference_a_law():
    """All 65,536 16-bit samples give the same byte as Python's own G.711 encoder."""
    samples = array.array("h", range(-32768, 32768))
    assert bytes(alaw(s) for s in samples) == audioop.lin2alaw(samples.tobytes(), 2)


def packets(pcap: bytes) -> list[tuple[bytes, bytes]]:
    """(record header, packet) of every packet in a capture."""
    found, offset = [], 24
    while offset < len(pcap):
        length = struct.unpack_from("<I", pcap, offset + 8)[0]
        found.append((pcap[offset : offset + 16], pcap[offset + 16 : offset + 16 + length]))
        offset += 16 + length
    return found


def test_a_tone_capture_keeps_sipps_timing_and_carries_the_tone(tmp_path: Path):
    """Same packets, times, RTP headers; the audio decodes to the asked frequency."""
    source = AUDIO_PCAP.read_bytes()
    target = tone_pcap(AUDIO_PCAP, tmp_path / "tone.pcap", 440.0).read_bytes()
    before, after = packets(source), packets(target)
    assert len(before) == len(after) > 100
    assert [h for h, _ in before] == [h for h, _ in after]
    for (_, old), (_, new) in zip(before, after, strict=True):
        assert old[:40] == new[:40]  # Ethernet, IP and UDP ports and length; not the checksum
        assert old[42:RTP_AUDIO] == new[42:RTP_AUDIO]  # the RTP header: sequence, time, type
    audio = b"".join(packet[RTP_AUDIO:] for _, packet in after)
    samples = array.array("h", audioop.alaw2lin(audio, 2))
    assert tone_power(samples, 440.0) > 1000 * tone_power(samples, 1150.0)


def test_a_file_that_is_no_capture_is_refused(tmp_path: Path):
    """Anything but a little-endian Ethernet pcap is one clear error naming the file."""
    bogus = tmp_path / "speech.wav"
    bogus.write_bytes(b"RIFF" + bytes(40))
    with pytest.raises(SandboxError, match=r"speech\.wav is not"):
        tone_pcap(bogus, tmp_path / "tone.pcap", 440.0)
