"""Decode any audio file, check its level and turn it into telephone audio.

Telephone audio here means what Asterisk plays without transcoding for ``sound:`` URIs in the
``wav`` format: 8000 Hz, 16-bit signed PCM, one channel.
"""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
import warnings
from pathlib import Path

import structlog

from callrec_ari.errors import PromptError

with warnings.catch_warnings():
    # pydub 0.25.1, the newest, has regexes with invalid escapes that warn when compiled, which
    # filterwarnings=error turns into a SyntaxError; its audioop import warns as well.
    warnings.simplefilter("ignore", DeprecationWarning)
    from pydub import AudioSegment
    from pydub.exceptions import CouldntDecodeError, CouldntEncodeError
    from pydub.silence import detect_leading_silence

SAMPLE_RATE = 8000
SAMPLE_WIDTH = 2
CHANNELS = 1
MIN_SECONDS = 0.5
MIN_PEAK_DBFS = -30.0
TARGET_PEAK_DBFS = -3.0

# espeak-ng ends every text with about 0.3 s of silence: callers would wait through it twice
# per language (announcement, then decline hint). A short tail keeps the two apart.
_KEPT_SILENCE_MS = 150
_SILENCE_DBFS = -50.0
# Full-scale samples above this share of the file mean the source clipped; a file merely
# normalised to 0 dBFS touches full scale only now and then.
_CLIPPED_SHARE = 1e-4
_TOOL_TIMEOUT_SECONDS = 120
# A prompt of at most a few minutes decodes in well under a second; far more means a file
# built to be slow to decode.
_CAPPED_DECODE_SECONDS = 30
_PROBE_TIMEOUT_SECONDS = 10

_log = structlog.get_logger(__name__)


def probe_seconds(path: Path, *, what: str, timeout: float = _PROBE_TIMEOUT_SECONDS) -> float:
    """How long the audio in ``path`` lasts by its container and stream headers (ffprobe),
    without decoding it; ``PromptError`` starting with ``what`` if it cannot tell."""
    output = run_tool(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "format=duration:stream=duration",
            "-of",
            "default=noprint_wrappers=1:nokey=1",
            f"file:{path}",
        ],
        what=what,
        timeout=timeout,
    )
    durations = []
    for line in output.decode(errors="replace").split():
        try:
            durations.append(float(line))
        except ValueError:
            continue  # "N/A": the container does not say; the stream's value may
    if not durations:
        raise PromptError(f"{what} (ffprobe found no audio stream with a duration).")
    return max(durations)


def decode(path: Path, *, max_seconds: float | None = None) -> AudioSegment:
    """Read any audio file ffmpeg understands, keeping its sample rate and channels.

    With ``max_seconds``, ffmpeg stops after that much audio (``-t``), whatever the file's
    headers claim, and gets a shorter time limit: an upload cannot make it decode for hours.
    """
    try:
        if path.stat().st_size == 0:
            raise PromptError(f"Prompt file {path} is empty.")
    except OSError as exc:
        raise PromptError(f"Prompt file {path} cannot be read: {exc.strerror}.") from None
    # ffmpeg decodes to 16-bit WAV first: pydub 0.25.1 reads float WAVs as integers and
    # leaves WAV files it opened by name unclosed.
    with tempfile.TemporaryDirectory(prefix="callrec-prompt-") as scratch:
        decoded = Path(scratch) / "decoded.wav"
        run_tool(
            [
                "ffmpeg",
                "-nostdin",
                "-hide_banner",
                "-loglevel",
                "error",
                "-i",
                f"file:{path}",
                *([] if max_seconds is None else ["-t", f"{max_seconds:.3f}"]),
                "-vn",
                "-map_metadata",
                "-1",
                "-c:a",
                "pcm_s16le",
                "-f",
                "wav",
                str(decoded),
            ],
            what=f"Prompt file {path} is corrupt or not audio",
            timeout=_TOOL_TIMEOUT_SECONDS if max_seconds is None else _CAPPED_DECODE_SECONDS,
        )
        with decoded.open("rb") as wav:
            try:
                return AudioSegment.from_wav(wav)
            except CouldntDecodeError:
                raise PromptError(f"Prompt file {path} holds no audio stream.") from None


def to_telephone(audio: AudioSegment, origin: Path) -> AudioSegment:
    """Resample to 8 kHz mono 16-bit, refuse short or quiet audio, normalise the peak."""
    _warn_if_clipped(audio, origin)
    converted = io.BytesIO()
    try:
        # pydub hands the resampling to ffmpeg, whose filter avoids the aliasing of audioop.
        audio.export(
            converted,
            format="wav",
            parameters=["-ar", str(SAMPLE_RATE), "-ac", str(CHANNELS), "-c:a", "pcm_s16le"],
        )
        converted.seek(0)
        phone = AudioSegment.from_wav(converted)
    except (CouldntEncodeError, CouldntDecodeError) as exc:
        raise PromptError(f"Prompt file {origin} could not be resampled: {exc}.") from None
    seconds = phone.frame_count() / SAMPLE_RATE
    if seconds < MIN_SECONDS:
        raise PromptError(
            f"Prompt file {origin} is too short ({seconds:.2f} s; a prompt needs at least "
            f"{MIN_SECONDS} s)."
        )
    peak = phone.max_dBFS
    if peak == float("-inf"):
        raise PromptError(f"Prompt file {origin} is silent.")
    if peak < MIN_PEAK_DBFS:
        raise PromptError(
            f"Prompt file {origin} is too quiet (peak {peak:.1f} dBFS; a prompt needs at least "
            f"{MIN_PEAK_DBFS:.0f} dBFS)."
        )
    return phone.apply_gain(TARGET_PEAK_DBFS - peak)


def trim_silence(audio: AudioSegment) -> AudioSegment:
    """``audio`` without its leading silence and with at most 150 ms of trailing silence."""
    start = detect_leading_silence(audio, silence_threshold=_SILENCE_DBFS)
    end = len(audio) - detect_leading_silence(audio.reverse(), silence_threshold=_SILENCE_DBFS)
    if end <= start:
        return audio  # all silence: to_telephone refuses it with its own message
    trimmed: AudioSegment = audio[start : min(len(audio), end + _KEPT_SILENCE_MS)]
    return trimmed


def wav_bytes(audio: AudioSegment) -> bytes:
    """The audio as a plain PCM WAV file (44-byte header, no extra chunks)."""
    out = io.BytesIO()
    audio.export(out, format="wav")
    return out.getvalue()


def write_atomically(target: Path, data: bytes) -> None:
    """Replace ``target`` with ``data`` in one step, so readers never see half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp creates 0600; Asterisk runs as another user and must read the file.
        temporary.chmod(0o644)
        temporary.replace(target)
    finally:
        temporary.unlink(missing_ok=True)


def run_tool(
    command: list[str],
    *,
    what: str,
    stdin: bytes | None = None,
    timeout: float = _TOOL_TIMEOUT_SECONDS,
) -> bytes:
    """Run an external tool and return what it wrote to stdout; a failure or running longer
    than ``timeout`` seconds raises PromptError starting with ``what``."""
    try:
        result = subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise PromptError(f"{what}: {command[0]} is not installed.") from None
    except subprocess.TimeoutExpired:
        raise PromptError(f"{what}: {command[0]} took longer than {timeout:g} s.") from None
    if result.returncode != 0:
        lines = result.stderr.decode(errors="replace").strip().splitlines()
        # Tools prefix their last line with context ("file:x.mp3: ..."); the tail says why.
        reason = lines[-1].rpartition(": ")[2] if lines else f"exit status {result.returncode}"
        raise PromptError(f"{what} ({command[0]}: {reason.rstrip('.')}).")
    return result.stdout


def _warn_if_clipped(audio: AudioSegment, origin: Path) -> None:
    samples = audio.get_array_of_samples()
    clipped = samples.count(32767) + samples.count(-32768)
    if clipped > max(2, len(samples) * _CLIPPED_SHARE):
        _log.warning("prompt source clips", file=str(origin), clipped_samples=clipped)
