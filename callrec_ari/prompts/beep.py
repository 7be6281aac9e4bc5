"""The short beep an agent who takes a call over hears (``[consent] agent_tone_prompt``).

Not spoken, so it has no text: the same WAV sits in every language folder of ``prompts/``
(Asterisk looks sounds up by language) and is installed with the prompts. 1400 Hz for 0.4 s
is ITU-T E.180's recorder warning tone; the 10 ms ramps keep it from clicking.
"""

from __future__ import annotations

import io
import math
import struct
import wave

from callrec_ari.prompts.audio import CHANNELS, SAMPLE_RATE, SAMPLE_WIDTH

AGENT_TONE = "agent-tone"
HZ = 1400.0
SECONDS = 0.4
LEVEL_DBFS = -9.0  # its peak; well under the announcements' -3 dBFS, it is a reminder
_RAMP_SECONDS = 0.01


def beep_wav(hz: float = HZ, seconds: float = SECONDS, level_dbfs: float = LEVEL_DBFS) -> bytes:
    """A telephone WAV (8 kHz, 16-bit, mono) of one ``hz`` sine ``seconds`` long."""
    count = round(seconds * SAMPLE_RATE)
    ramp = max(1, round(_RAMP_SECONDS * SAMPLE_RATE))
    peak = 32767 * 10 ** (level_dbfs / 20)
    samples = (
        round(
            peak
            * min(1.0, i / ramp, (count - 1 - i) / ramp)
            * math.sin(2 * math.pi * hz * i / SAMPLE_RATE)
        )
        for i in range(count)
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(CHANNELS)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return out.getvalue()
