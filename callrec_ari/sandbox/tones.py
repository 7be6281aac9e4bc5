"""A pure tone as sipp's RTP capture, so a test can tell two voices apart by frequency.

sipp's ``play_pcap_audio`` replays a capture of RTP packets. Its only G.711 a-law capture
(``AUDIO_PCAP``, 7 s of speech) is what every phone plays, so a recording cannot show whose
voice is in which file. ``tone_pcap`` copies that capture packet by packet (headers, timing
and RTP sequence kept) with each packet's audio replaced by a sine of the given frequency,
encoded with the G.711 a-law rule, so caller and agent can each play their own frequency.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

from callrec_ari.errors import SandboxError

_GLOBAL_HEADER = 24
_RECORD_HEADER = 16
_HEADERS = 14 + 20 + 8 + 12  # Ethernet, IPv4 (no options), UDP, RTP (no CSRC)
_RATE = 8000
_SEGMENT_ENDS = (0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF, 0x3FFF, 0x7FFF)


def alaw(sample: int) -> int:
    """One 16-bit linear sample as a G.711 a-law byte (ITU-T G.711, as in its reference code)."""
    value = sample >> 3  # a-law works on 13 bits
    if value >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        value = -value - 1
    segment = next((i for i, end in enumerate(_SEGMENT_ENDS) if value <= end >> 3), 8)
    if segment >= 8:
        return 0x7F ^ mask
    code = segment << 4
    code |= (value >> 1) & 0x0F if segment < 2 else (value >> segment) & 0x0F
    return code ^ mask


def tone_pcap(source: Path, target: Path, hz: float, *, level: float = 0.3) -> Path:
    """Write ``target``: the capture ``source`` with its audio replaced by a ``hz`` sine at
    ``level`` of full scale; ``SandboxError`` if ``source`` is not an Ethernet capture."""
    data = source.read_bytes()
    magic, linktype = struct.unpack_from("<I", data)[0], struct.unpack_from("<I", data, 20)[0]
    if magic != 0xA1B2C3D4 or linktype != 1:
        raise SandboxError(f"{source} is not a little-endian Ethernet pcap capture.")
    out = bytearray(data[:_GLOBAL_HEADER])
    offset, sample = _GLOBAL_HEADER, 0
    while offset + _RECORD_HEADER <= len(data):
        length = struct.unpack_from("<I", data, offset + 8)[0]
        packet = bytearray(data[offset + _RECORD_HEADER : offset + _RECORD_HEADER + length])
        payload = len(packet) - _HEADERS
        udp = struct.unpack_from(">H", packet, 14 + 20 + 4)[0] - 8 - 12
        samples = min(payload, udp)  # Ethernet may pad a frame past the UDP datagram
        for i in range(max(samples, 0)):
            phase = 2 * math.pi * hz * (sample + i) / _RATE
            packet[_HEADERS + i] = alaw(int(32767 * level * math.sin(phase)))
        sample += max(samples, 0)
        # The old UDP checksum no longer fits the audio; 0 is IPv4's "no checksum".
        struct.pack_into(">H", packet, 14 + 20 + 6, 0)
        out += data[offset : offset + _RECORD_HEADER] + packet
        offset += _RECORD_HEADER + length
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(bytes(out))
    return target
