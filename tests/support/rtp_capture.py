"""What each phone heard, read off the loopback: the G.711 audio Asterisk sends, per port.

sipp plays audio but keeps none of what it receives, so a test that must show one phone heard
something (and another did not) listens beside it: a raw IPv4 socket gets a copy of every UDP
datagram the machine receives (root, as the sandbox runs), and the RTP ones Asterisk sent from
its media ports are decoded to 16-bit samples by destination port.
"""

from __future__ import annotations

import array
import select
import socket
import struct
import threading
from collections import defaultdict
from types import TracebackType

_PCMA, _PCMU = 8, 0


def alaw_to_linear(byte: int) -> int:
    """One G.711 a-law byte as a 16-bit sample (ITU-T G.711)."""
    value = byte ^ 0x55
    magnitude = (value & 0x0F) << 4
    segment = (value & 0x70) >> 4
    if segment == 0:
        magnitude += 8
    else:
        magnitude = (magnitude + 0x108) << (segment - 1)
    return magnitude if value & 0x80 else -magnitude


def ulaw_to_linear(byte: int) -> int:
    """One G.711 mu-law byte as a 16-bit sample (ITU-T G.711)."""
    value = ~byte & 0xFF
    magnitude = (((value & 0x0F) << 3) + 0x84) << ((value & 0x70) >> 4)
    return 0x84 - magnitude if value & 0x80 else magnitude - 0x84


_DECODE = {
    _PCMA: [alaw_to_linear(b) for b in range(256)],
    _PCMU: [ulaw_to_linear(b) for b in range(256)],
}


class RtpCapture:
    """Collects the audio Asterisk sends from ``source_ports`` to each destination port, from
    ``__enter__`` to ``__exit__``."""

    def __init__(self, source_ports: range) -> None:
        self.source_ports = source_ports
        self._audio: dict[int, array.array[int]] = defaultdict(lambda: array.array("h"))
        self._stop = threading.Event()
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> RtpCapture:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
        self._thread = threading.Thread(target=self._read, name="rtp-capture", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._socket is not None:
            self._socket.close()

    def heard(self, ports: range) -> array.array[int]:
        """The samples sent to any of ``ports``, in arrival order."""
        samples = array.array("h")
        for port in ports:
            samples.extend(self._audio.get(port, array.array("h")))
        return samples

    def _read(self) -> None:
        assert self._socket is not None
        while not self._stop.is_set():
            ready, _, _ = select.select([self._socket], [], [], 0.1)
            if not ready:
                continue
            packet = self._socket.recv(65535)
            header = (packet[0] & 0x0F) * 4  # the IPv4 header's length
            source, target = struct.unpack_from(">HH", packet, header)
            rtp = packet[header + 8 :]
            if source not in self.source_ports or len(rtp) < 12 or rtp[0] >> 6 != 2:
                continue
            decode = _DECODE.get(rtp[1] & 0x7F)
            if decode is None:
                continue  # DTMF events, comfort noise
            start = 12 + 4 * (rtp[0] & 0x0F)
            self._audio[target].extend(decode[b] for b in rtp[start:])
