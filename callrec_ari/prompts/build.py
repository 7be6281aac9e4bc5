"""Build telephone WAVs from prompt texts (espeak-ng) or from studio recordings.

A WAV is replaced only after its new audio passed every check, so a bad source leaves the
previous build in place; see ``layout`` for where the files live.
"""

from __future__ import annotations

import enum
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import structlog

from callrec_ari.errors import PromptError
from callrec_ari.prompts.audio import (
    SAMPLE_RATE,
    decode,
    to_telephone,
    trim_silence,
    wav_bytes,
    write_atomically,
)
from callrec_ari.prompts.layout import STUDIO_FOLDER, check_name, language_folders
from callrec_ari.prompts.speech import DTMF_KEYS, check_voice, spoken_key, synthesise

DECLINE_HINT = "decline-hint"
KEY_PLACEHOLDER = "{key}"
STUDIO_SUFFIXES = frozenset(
    {".aac", ".aif", ".aiff", ".flac", ".m4a", ".mka", ".mp3", ".oga", ".ogg", ".opus", ".wav"}
    | {".webm", ".wma"}
)

TRANSCRIPT_SUFFIX = ".txt"

_log = structlog.get_logger(__name__)


class PromptSource(enum.StrEnum):
    """What a prompt was built from."""

    TTS = "tts"  # the text, spoken by espeak-ng
    STUDIO = "studio"  # a recording in the studio folder


@dataclass(frozen=True, kw_only=True)
class BuiltPrompt:
    """One prompt written as an 8 kHz, 16-bit, mono WAV."""

    language: str
    name: str
    path: Path
    duration_seconds: float
    source: PromptSource


@dataclass(frozen=True, kw_only=True)
class _Job:
    language: str
    name: str
    folder: Path
    source_file: Path
    source: PromptSource


def build_prompts(
    source_dir: Path, *, decline_key: str | None, languages: Iterable[str] | None = None
) -> list[BuiltPrompt]:
    """Build ``<lang>/<name>.wav`` for every text or studio recording under ``source_dir``.

    ``decline-hint`` is built only when ``decline_key`` is set, with ``{key}`` spoken as that
    key. Folders, names, texts and voices are checked before the first WAV is written.
    """
    if decline_key is not None and decline_key not in DTMF_KEYS:
        raise PromptError(f"Decline key {decline_key!r} is not one DTMF key 0-9, * or #.")
    jobs = [
        job
        for folder in language_folders(source_dir, languages)
        for job in _jobs(folder, decline_key)
    ]
    for folder in sorted({job.folder for job in jobs if job.source is PromptSource.TTS}):
        check_voice(folder.name, folder)
    return [_build(job, decline_key) for job in jobs]


def speech_text(path: Path, *, decline_key: str | None) -> str:
    """The words espeak-ng speaks for the text at ``path``, with ``{key}`` spelled out."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        raise PromptError(f"Prompt text {path} is not UTF-8 text.") from None
    except OSError as exc:
        raise PromptError(f"Prompt text {path} cannot be read: {exc.strerror}.") from None
    if not text:
        raise PromptError(f"Prompt text {path} is empty.")
    if path.stem != DECLINE_HINT:
        return text
    if KEY_PLACEHOLDER not in text:
        raise PromptError(f"Prompt text {path} must say {KEY_PLACEHOLDER} where the key goes.")
    if decline_key is None:
        raise PromptError(f"Prompt text {path} needs a decline key to be spoken.")
    return text.replace(KEY_PLACEHOLDER, spoken_key(path.parent.name, decline_key))


def _jobs(folder: Path, decline_key: str | None) -> list[_Job]:
    texts = {path.stem: path for path in folder.glob("*.txt") if not path.name.startswith(".")}
    studios = _studio_recordings(folder / STUDIO_FOLDER)
    names = sorted(texts.keys() | studios.keys())
    if not names:
        raise PromptError(f"Prompt folder {folder} has no texts (.txt) or studio recordings.")
    jobs = []
    for name in names:
        if name == DECLINE_HINT and decline_key is None:
            continue
        if name in studios:
            source_file, source = studios[name], PromptSource.STUDIO
        else:
            source_file, source = texts[name], PromptSource.TTS
            speech_text(source_file, decline_key=decline_key)
        check_name(name, source_file)
        jobs.append(
            _Job(
                language=folder.name,
                name=name,
                folder=folder,
                source_file=source_file,
                source=source,
            )
        )
    return jobs


def _studio_recordings(studio: Path) -> dict[str, Path]:
    if not studio.is_dir():
        return {}
    recordings: dict[str, Path] = {}
    for path in sorted(studio.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        if path.suffix.lower() == TRANSCRIPT_SUFFIX:
            continue  # what the recording says, read by `callrec prompts check`
        if path.suffix.lower() not in STUDIO_SUFFIXES:
            _log.warning("ignoring a studio file that is not audio", file=str(path))
            continue
        if path.stem in recordings:
            raise PromptError(
                f"Prompt folder {studio} has two recordings of {path.stem!r}: "
                f"{recordings[path.stem].name} and {path.name}."
            )
        recordings[path.stem] = path
    return recordings


def _build(job: _Job, decline_key: str | None) -> BuiltPrompt:
    if job.source is PromptSource.STUDIO:
        audio = decode(job.source_file)
    else:
        text = speech_text(job.source_file, decline_key=decline_key)
        with tempfile.TemporaryDirectory(prefix="callrec-tts-") as scratch:
            spoken = Path(scratch) / "speech.wav"
            synthesise(text, job.language, spoken, origin=job.source_file)
            audio = trim_silence(decode(spoken))
    phone = to_telephone(audio, job.source_file)
    target = job.folder / f"{job.name}.wav"
    write_atomically(target, wav_bytes(phone))
    seconds = phone.frame_count() / SAMPLE_RATE
    _log.info(
        "prompt built",
        language=job.language,
        name=job.name,
        source=job.source.value,
        seconds=round(seconds, 2),
    )
    return BuiltPrompt(
        language=job.language,
        name=job.name,
        path=target,
        duration_seconds=seconds,
        source=job.source,
    )
