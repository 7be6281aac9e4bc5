"""Replace one prompt with an uploaded recording (the admin's prompts page).

The upload is decoded and converted like a studio recording, and checked, before anything
is written. Then it becomes the language's studio recording and built WAV in the prompt
folder, so a later ``callrec prompts build`` or ``install`` keeps it, and is installed where
Asterisk plays it. Each file is replaced in one step: a bad upload leaves every file as it was.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from callrec_ari.errors import PromptError
from callrec_ari.names import LANGUAGE
from callrec_ari.prompts.audio import (
    SAMPLE_RATE,
    decode,
    probe_seconds,
    to_telephone,
    wav_bytes,
    write_atomically,
)
from callrec_ari.prompts.build import STUDIO_SUFFIXES
from callrec_ari.prompts.layout import STUDIO_FOLDER, check_name, sound_folder

MAX_SECONDS = 60.0  # a consent announcement should stay under 25 s; a minute is surely wrong


@dataclass(frozen=True, kw_only=True)
class ConvertedPrompt:
    """An upload turned into a telephone WAV that passed every check."""

    wav: bytes
    seconds: float
    kind: str  # what was uploaded: wav, mp3 or ogg
    sha256: str


def kind_of(head: bytes) -> str | None:
    """WAV, MP3 or OGG by the file's first bytes (never by its name); None for anything else."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"OggS":
        return "ogg"
    # An ID3 tag, or an MPEG audio frame header whose layer bits are set (ADTS AAC has 00).
    if head[:3] == b"ID3" or (
        len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and (head[1] >> 1) & 3
    ):
        return "mp3"
    return None


def convert_upload(upload: IO[bytes], *, label: str) -> ConvertedPrompt:
    """Check and convert an uploaded file; ``PromptError`` naming ``label`` if it is unfit."""
    head = upload.read(16)
    upload.seek(0)
    kind = kind_of(head)
    if kind is None:
        raise PromptError(f"Prompt file {label} is not a WAV, MP3 or OGG file.")
    with tempfile.TemporaryDirectory(prefix="callrec-upload-") as scratch:
        # A fixed name: what the browser called the file never becomes a path.
        copy = Path(scratch) / f"upload.{kind}"
        with copy.open("wb") as target:
            shutil.copyfileobj(upload, target)
        damaged = f"Prompt file {label} is a damaged {kind.upper()} file or holds no audio."
        try:
            # The length from the headers first: a small file can hold hours of silence,
            # which would take minutes and gigabytes to decode.
            claimed = probe_seconds(copy, what=damaged)
        except PromptError:
            raise PromptError(damaged) from None
        if claimed > MAX_SECONDS:
            raise _too_long(label, claimed)
        try:
            # Headers can lie: ffmpeg stops just past the limit whatever they say, so a
            # longer file still decodes to more than MAX_SECONDS and is refused below.
            audio = decode(copy, max_seconds=MAX_SECONDS + 1)
        except PromptError:
            raise PromptError(damaged) from None
    if len(audio) / 1000 > MAX_SECONDS:
        raise _too_long(label, len(audio) / 1000, at_least=True)
    phone = to_telephone(audio, Path(label))
    seconds = phone.frame_count() / SAMPLE_RATE
    if seconds > MAX_SECONDS:
        raise _too_long(label, seconds)
    wav = wav_bytes(phone)
    return ConvertedPrompt(
        wav=wav, seconds=seconds, kind=kind, sha256=hashlib.sha256(wav).hexdigest()
    )


def _too_long(label: str, seconds: float, *, at_least: bool = False) -> PromptError:
    length = f"{'over ' if at_least else ''}{seconds:.1f} s"
    return PromptError(
        f"Prompt file {label} is too long ({length}; a prompt may last at most "
        f"{MAX_SECONDS:.0f} s)."
    )


def install_upload(
    prompt: ConvertedPrompt,
    *,
    source_dir: Path,
    sounds_dir: Path,
    language: str,
    name: str,
    asterisk_root: Path = Path("/"),
) -> list[str]:
    """Write the prompt as studio recording, built WAV and installed sound of ``language``.

    Returns the names of the studio recordings of ``name`` in other formats that it removed
    (``callrec prompts build`` refuses two recordings of one prompt).
    """
    if not LANGUAGE.fullmatch(language):
        raise PromptError(f"Prompt language {language!r} is not a code such as 'pl' or 'pt_BR'.")
    check_name(name, Path(name))
    # Checked first: a language folder that is a broken link must not leave a half upload.
    installed = sound_folder(sounds_dir, language, asterisk_root=asterisk_root)
    studio = source_dir / language / STUDIO_FOLDER
    studio_wav = studio / f"{name}.wav"
    for target in (
        studio_wav,
        source_dir / language / f"{name}.wav",
        installed / f"{name}.wav",  # last: what callers hear
    ):
        try:
            write_atomically(target, prompt.wav)
        except OSError as exc:
            raise PromptError(f"Prompt folder {target.parent} cannot be written: {exc}.") from None
    removed = []
    for other in sorted(studio.iterdir()):
        if (
            other.stem == name
            and other.name != studio_wav.name
            and other.suffix.lower() in STUDIO_SUFFIXES
        ):
            other.unlink()
            removed.append(other.name)
    return removed
