"""Copy built prompts to where Asterisk looks for ``sound:callrec/<name>`` in each language."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterable
from pathlib import Path

import structlog

from callrec_ari.errors import PromptError
from callrec_ari.prompts.audio import CHANNELS, SAMPLE_RATE, SAMPLE_WIDTH, write_atomically
from callrec_ari.prompts.layout import check_name, language_folders, sound_folder

_log = structlog.get_logger(__name__)


def install_prompts(
    built_dir: Path,
    sounds_dir: Path,
    *,
    languages: Iterable[str] | None = None,
    asterisk_root: Path = Path("/"),
) -> list[Path]:
    """Copy every ``built_dir/<lang>/<name>.wav`` to ``sounds_dir/<lang>/callrec/<name>.wav``.

    Returns where each file really went: a language folder that is a symbolic link to a folder
    (Debian's ``en``) is followed, since that folder is what Asterisk reads; absolute link
    targets are read inside ``asterisk_root``. All files and folders are checked before the
    first is copied; each copy replaces the installed file in one step, so a bad file or a
    broken link leaves every installed prompt as it was.
    """
    checked: list[tuple[Path, bytes]] = []
    for folder in language_folders(built_dir, languages):
        wavs = sorted(path for path in folder.glob("*.wav") if not path.name.startswith("."))
        if not wavs:
            raise PromptError(f"Prompt folder {folder} has no built WAV files; build it first.")
        target_dir = sound_folder(sounds_dir, folder.name, asterisk_root=asterisk_root)
        for wav in wavs:
            check_name(wav.stem, wav)
            data, _ = _read(wav)
            checked.append((target_dir / wav.name, data))
    for target, data in checked:
        try:
            write_atomically(target, data)
        except OSError as exc:
            raise PromptError(f"Sound folder {target.parent} cannot be written: {exc}.") from None
        _log.debug("prompt installed", path=str(target))
    return [target for target, _ in checked]


def prompt_duration(path: Path) -> float:
    """Seconds of audio in a telephone WAV; PromptError if it is not 8 kHz 16-bit mono PCM."""
    _, seconds = _read(path)
    return seconds


def _read(path: Path) -> tuple[bytes, float]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PromptError(f"Prompt file {path} cannot be read: {exc.strerror}.") from None
    if not data:
        raise PromptError(f"Prompt file {path} is empty.")
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            shape = (wav.getframerate(), wav.getsampwidth(), wav.getnchannels())
            frames = wav.getnframes()
            samples = wav.readframes(frames)
    except (wave.Error, EOFError) as exc:
        raise PromptError(f"Prompt file {path} is not a PCM WAV file ({exc}).") from None
    if shape != (SAMPLE_RATE, SAMPLE_WIDTH, CHANNELS):
        rate, width, channels = shape
        raise PromptError(
            f"Prompt file {path} is {rate} Hz, {8 * width}-bit, {channels} channel(s); "
            f"Asterisk needs {SAMPLE_RATE} Hz, {8 * SAMPLE_WIDTH}-bit, mono."
        )
    if frames == 0 or len(samples) < frames * SAMPLE_WIDTH:
        raise PromptError(f"Prompt file {path} has no audio or is cut short.")
    return data, frames / SAMPLE_RATE
