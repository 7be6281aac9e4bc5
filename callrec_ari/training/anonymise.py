"""The anonymised audio: one ffmpeg run from the call's two legs to one mono WAV.

::

    caller leg ─ silence spans ─ rubberband (pitch and formants x factor) ─┐
                                                                            ├─ mix ─ silence spans
    agent leg ─────────────────────────────────────────────────────────────┘    │
                                                     random silence before and after ─ 8 kHz s16

``disguise`` shifts the caller's pitch and formants together by a factor drawn per copy
(1.25-1.45 up or 0.7-0.8 down: a different voice to the ear, still intelligible); the factor
is used once and kept nowhere. ``remove`` leaves the caller's leg out: only the agent is
heard. The marked spans are silenced per sample (``aeval``) on the mix, which zeroes both
voices exactly there, and on the caller's leg before the shift as well, so nothing the
caller said in them survives even where the shift smears a few milliseconds. Random
silence (0.5-3 s) before and after makes the copy's length differ from the original's. The
output carries no metadata: ``-map_metadata -1`` and bit-exact mode write a bare RIFF
header (``fmt`` and ``data`` chunks, no ``LIST``/encoder tag).

``ffmpeg_command`` is pure; ``render`` runs it without blocking the event loop and kills
only the ffmpeg it started if it overruns or the caller is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from callrec_ari.errors import InputError, RecordingError
from callrec_ari.training.spans import Span

RATE = 8000  # the legs' and the copy's sample rate
PITCH_UP = (1.25, 1.45)
PITCH_DOWN = (0.7, 0.8)
PAD_SECONDS = (0.5, 3.0)
_BASE_TIMEOUT = 120.0  # seconds, plus one per second of audio: ~40 times what it takes


class CallerVoice(enum.StrEnum):
    """What the copy does with the caller's voice, as the row stores it."""

    DISGUISED = "disguised"  # pitch and formants shifted
    REMOVED = "removed"  # the caller's leg left out


_MODES = {"disguise": CallerVoice.DISGUISED, "remove": CallerVoice.REMOVED}


def caller_voice(mode: str) -> CallerVoice:
    """The voice treatment a person asked for: ``disguise`` (or empty) or ``remove``."""
    chosen = _MODES.get((mode or "disguise").strip().lower())
    if chosen is None:
        raise InputError(f"The caller's voice must be disguise or remove, not {mode[:20]!r}.")
    return chosen


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """Everything one copy is made from: the legs, the spans and this copy's random draws."""

    agent: Path
    caller: Path | None  # None: the caller's leg is left out
    pitch: float | None  # the caller's pitch and formant factor; None when left out
    spans: tuple[Span, ...]
    lead_samples: int  # silence before
    tail_samples: int  # silence after

    @property
    def voice(self) -> CallerVoice:
        """Whether the caller is heard disguised or not at all."""
        return CallerVoice.REMOVED if self.caller is None else CallerVoice.DISGUISED


def draw(
    *,
    agent: Path,
    caller: Path | None,
    spans: Sequence[Span],
    rng: random.Random | None = None,
) -> Recipe:
    """A recipe with fresh random draws (``secrets``' generator unless ``rng`` is given):
    the pitch factor, up or down, and the silence before and after."""
    chance = rng or secrets.SystemRandom()
    pitch = None
    if caller is not None:
        low, high = PITCH_UP if chance.random() < 0.5 else PITCH_DOWN
        pitch = chance.uniform(low, high)
    lead, tail = (round(chance.uniform(*PAD_SECONDS) * RATE) for _ in range(2))
    return Recipe(
        agent=agent,
        caller=caller,
        pitch=pitch,
        spans=tuple(spans),
        lead_samples=lead,
        tail_samples=tail,
    )


def ffmpeg_command(recipe: Recipe, output: Path) -> list[str]:
    """The ffmpeg command line writing the copy of ``recipe`` to ``output`` (never over an
    existing file)."""
    silence = _silence(recipe.spans)
    inputs = ["-i", f"file:{recipe.agent}"]
    if recipe.caller is None:
        graph = [f"[0:a]{_finish(recipe, silence)}[out]"]
    else:
        inputs += ["-i", f"file:{recipe.caller}"]
        shift = f"rubberband=pitch={recipe.pitch or 1.0:.4f}:formant=shifted:pitchq=quality"
        caller = f"[1:a]{silence + ',' if silence else ''}{shift}[caller]"
        mix = "[0:a][caller]amix=inputs=2:duration=longest:normalize=0"
        graph = [caller, f"{mix},{_finish(recipe, silence)}[out]"]
    return [
        "ffmpeg",
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-n",
        *inputs,
        "-filter_complex",
        ";".join(graph),
        "-map",
        "[out]",
        "-map_metadata",
        "-1",
        "-fflags",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        "-c:a",
        "pcm_s16le",
        "-ar",
        str(RATE),
        "-ac",
        "1",
        "-f",
        "wav",
        f"file:{output}",
    ]


def _silence(spans: Sequence[Span]) -> str:
    """An ``aeval`` filter zeroing every sample inside ``spans`` (empty: no spans)."""
    if not spans:
        return ""
    keep = "*".join(f"(1-between(t,{span.start:.3f},{span.end:.3f}))" for span in spans)
    return f"aeval=exprs='val(0)*{keep}'"


def _finish(recipe: Recipe, silence: str) -> str:
    steps = [
        silence,
        f"adelay=delays={recipe.lead_samples}S:all=1",
        f"apad=pad_len={recipe.tail_samples}",
        f"aformat=sample_fmts=s16:sample_rates={RATE}:channel_layouts=mono",
    ]
    return ",".join(step for step in steps if step)


def timeout_for(duration: float) -> float:
    """How long ffmpeg may take for ``duration`` seconds of audio before it is stopped."""
    return _BASE_TIMEOUT + duration


async def render(recipe: Recipe, output: Path, *, limit_seconds: float) -> None:
    """Write the copy of ``recipe`` to ``output`` with ffmpeg; ``RecordingError`` in one
    sentence if ffmpeg is missing, fails or takes longer than ``limit_seconds``."""
    command = ffmpeg_command(recipe, output)
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise RecordingError(f"ffmpeg could not be started ({exc.strerror or exc}).") from None
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), limit_seconds)
    except BaseException as exc:  # a timeout or a cancellation: stop our ffmpeg, then go on
        with contextlib.suppress(ProcessLookupError):  # it may have ended just now
            process.kill()
        await process.wait()
        if isinstance(exc, TimeoutError):
            raise RecordingError(
                f"ffmpeg did not finish the training copy within {limit_seconds:.0f} seconds."
            ) from None
        raise
    if process.returncode != 0:
        lines = stderr.decode(errors="replace").strip().splitlines()
        why = lines[-1] if lines else f"exit status {process.returncode}"
        raise RecordingError(f"ffmpeg could not make the training copy ({why[:200]}).")
