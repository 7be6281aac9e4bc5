"""Uploads built to be slow to decode: hours of silence in a small file are refused from
their headers, and decoding never runs past the cap whatever a file claims."""

from __future__ import annotations

import io
import resource
import subprocess
from pathlib import Path

import pytest

from callrec_ari.__main__ import main
from callrec_ari.errors import PromptError
from callrec_ari.prompts.audio import decode, probe_seconds
from callrec_ari.prompts.upload import MAX_SECONDS, convert_upload
from tests.prompts.conftest import make_tone
from tests.test_main import write_config


def silence_ogg(path: Path, *, seconds: int) -> Path:
    """FLAC-in-Ogg of digital silence: tiny on disk, long when decoded."""
    command = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi"]
    command += ["-i", "anullsrc=r=8000:cl=mono", "-t", str(seconds), "-c:a", "flac"]
    subprocess.run([*command, str(path)], check=True)
    return path


def children_cpu_seconds() -> float:
    """CPU time used so far by finished child processes (ffmpeg, ffprobe): unlike the time
    on the clock, it does not grow when other work shares the machine."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_two_hours_of_silence_are_refused_from_the_headers(tmp_path: Path) -> None:
    """The pen test's file: refused in a moment with one sentence, nothing decoded."""
    upload = silence_ogg(tmp_path / "silence.ogg", seconds=7200)
    assert upload.stat().st_size < 2_000_000
    cpu_before = children_cpu_seconds()
    with pytest.raises(PromptError) as refused:
        convert_upload(io.BytesIO(upload.read_bytes()), label="en/announcement")
    cpu = children_cpu_seconds() - cpu_before
    assert str(refused.value) == (
        "Prompt file en/announcement is too long (7200.0 s; a prompt may last at most "
        f"{MAX_SECONDS:.0f} s)."
    )
    # Decoding these two hours costs ffmpeg about 4.5 s of CPU here (37 s and 2.8 GB for
    # the pen test's 48 kHz file, with pydub); reading the headers costs a tenth of that.
    assert cpu < 1.0


def test_the_probe_reads_the_length_without_decoding(tmp_path: Path) -> None:
    """ffprobe tells the length of a two-minute file in well under a second."""
    upload = silence_ogg(tmp_path / "two-minutes.ogg", seconds=120)
    cpu_before = children_cpu_seconds()
    assert probe_seconds(upload, what="probe") == pytest.approx(120.0, abs=0.1)
    assert children_cpu_seconds() - cpu_before < 0.5


def test_decoding_stops_at_the_cap_whatever_the_file_holds(tmp_path: Path) -> None:
    """A ten-second file decoded with a two-second cap yields two seconds of audio."""
    tone = make_tone(tmp_path / "ten.wav", seconds=10.0, rate=8000, channels=1)
    assert len(decode(tone, max_seconds=2.0)) == pytest.approx(2000, abs=30)


def test_a_file_that_is_not_audio_inside_is_refused_as_damaged(tmp_path: Path) -> None:
    """An OGG header in front of garbage: the probe fails and the sentence names the file."""
    with pytest.raises(PromptError, match=r"^Prompt file en/x is a damaged OGG file"):
        convert_upload(io.BytesIO(b"OggS" + b"\x00" * 4000), label="en/x")


def test_a_normal_prompt_still_converts(tmp_path: Path) -> None:
    """Two seconds of a tone as MP3 pass every check."""
    tone = make_tone(tmp_path / "take.mp3", seconds=2.0)
    converted = convert_upload(io.BytesIO(tone.read_bytes()), label="en/announcement")
    assert converted.seconds == pytest.approx(2.0, abs=0.1)


def test_the_command_line_refuses_hours_of_silence_the_same_way(tmp_path: Path, capsys) -> None:
    """``callrec prompts replace`` shares the checks: one sentence, exit status 2, no decoding."""
    config = write_config(
        tmp_path,
        prompts={"source_dir": str(tmp_path / "prompts"), "sounds_dir": str(tmp_path / "s")},
        log={"level": "warning"},
    )
    assert main(["migrate", "-c", str(config)]) == 0
    upload = silence_ogg(tmp_path / "silence.ogg", seconds=7200)
    capsys.readouterr()
    cpu_before = children_cpu_seconds()
    argv = ["prompts", "replace", "-c", str(config), "--lang", "sv", "--prompt", "announcement"]
    assert main([*argv, "--file", str(upload)]) == 2
    assert children_cpu_seconds() - cpu_before < 1.0
    assert capsys.readouterr().err == (
        "callrec: Prompt file sv/announcement is too long (7200.0 s; a prompt may last at most "
        f"{MAX_SECONDS:.0f} s).\n"
    )
    assert not (tmp_path / "s" / "sv").exists()
