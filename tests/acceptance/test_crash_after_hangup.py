"""A call that had just hung up when Asterisk died (issue 15's last case), on the real
Asterisk 22: callrec saw the end, MixMonitor never closed the file; once Asterisk is back
the recording is repaired and settled complete, keeping the end callrec saw.

MixMonitor closes a file within a millisecond of the hang-up, before callrec even hears of
it, so no kill timed from outside lands in between. The test makes the moment last instead:
the recordings live on a small ext4 file system of their own, frozen (``fsfreeze``) right
after MixMonitor's periodic flush and just before the hang-up. MixMonitor then blocks in the
close's first write, the channel's end still reaches callrec, and Asterisk is SIGKILLed while
blocked: the file keeps its audio and a header with both sizes 0, as a crash leaves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import wave
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from callrec_ari.app import CONTROLLER
from callrec_ari.ari.client import AriClient
from callrec_ari.db import lookup
from callrec_ari.flow.call import Phase
from callrec_ari.recording.legs import leg_files
from callrec_ari.records import CallRecord, Consent, RecordingStatus
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.sipp import CallerScript, SippAgent
from tests.acceptance.conftest import QUICK_DID, Service, sandbox_settings, sha256_of, until
from tests.acceptance.test_crash import stopped
from tests.support.passwords import CHEAP_TABLE

pytestmark = pytest.mark.asterisk


@contextlib.contextmanager
def own_file_system(asterisk: AsteriskSandbox, workdir: Path) -> Iterator[Path]:
    """Asterisk restarted with its recordings on a 64 MB ext4 image of the test's (Asterisk
    runs in a mount namespace of its own, copied at its start); undone afterwards."""
    image, mount = workdir / "recordings.img", asterisk.recordings_service_dir
    subprocess.run(["truncate", "-s", "64M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True)
    asterisk.stop()
    subprocess.run(["mount", "-o", "loop", str(image), str(mount)], check=True)
    try:
        asterisk.start()
        yield mount
    finally:
        subprocess.run(["fsfreeze", "-u", str(mount)], check=False, capture_output=True)
        asterisk.stop()
        subprocess.run(["umount", str(mount)], check=True)
        asterisk.start()


def header_sizes(path: Path) -> tuple[bytes, bytes]:
    """The RIFF and data size fields of a WAV header, as bytes."""
    header = path.read_bytes()[:44]
    return header[4:8], header[40:44]


def size_of(path: Path) -> int:
    """The file's length now."""
    return path.stat().st_size


def freeze(mount: Path, *, frozen: bool) -> None:
    """Freeze the file system (its writers block) or thaw it."""
    subprocess.run(["fsfreeze", "-f" if frozen else "-u", str(mount)], check=True)


async def after_a_flush(mix: Path) -> None:
    """Return right after MixMonitor's periodic flush (every 2.048 s) grew the mix."""
    size = size_of(mix)
    await until(lambda: size_of(mix) != size, within=5, step=0.005)
    await asyncio.sleep(0.1)  # the legs flush in the same moment


async def answered_row(database_url: str) -> CallRecord | None:
    """The call, once stored as answered by the agent."""
    rows = await lookup.latest(database_url, 1)
    return rows[0] if rows and rows[0].answered_at is not None else None


async def test_a_call_ended_just_before_asterisk_died_is_repaired_and_keeps_its_end(
    asterisk: AsteriskSandbox, agent: SippAgent, tmp_path: Path
):
    """The caller hangs up, Asterisk is killed before MixMonitor closed the file, then started
    again: the row is complete, interrupted by the PBX, ended when callrec saw it end, and
    its WAV plays with the row's SHA-256."""
    with own_file_system(asterisk, tmp_path):
        service = Service(
            sandbox_settings(asterisk, tmp_path, passwords=CHEAP_TABLE), asterisk, tmp_path
        )
        await service.start()
        try:
            script = CallerScript(
                did=QUICK_DID,
                caller="48221700001",
                wait_ms=service.listen_ms(QUICK_DID),
                far_end_hangs_up=True,
            )
            calls = asyncio.create_task(service.call(script, calls=1))
            mount = asterisk.recordings_service_dir
            try:
                url = service.settings.database.url
                row = await until(lambda: answered_row(url), within=30, step=0.2)
                mix = service.wav(row)
                await asyncio.sleep(3.0)  # some conversation
                await after_a_flush(mix)
                await asyncio.to_thread(freeze, mount, frozen=True)
                async with aiohttp.ClientSession() as session:
                    await AriClient(session, service.settings.ari).hangup(row.uniqueid)
                hung_up_at = datetime.now(UTC)
                controller = service.app[CONTROLLER]
                await until(
                    lambda: controller.phase_of(row.uniqueid) == Phase.FINALISING,
                    within=5,
                    step=0.01,
                )
                killing = asyncio.create_task(asyncio.to_thread(asterisk.kill))
                await asyncio.sleep(0.3)  # SIGKILL sent; it takes effect once writes resume
                await asyncio.to_thread(freeze, mount, frozen=False)
                await killing
            finally:
                await stopped(calls)
            for path in (mix, *leg_files(mix)):
                assert header_sizes(path) == (bytes(4), bytes(4)), path  # never closed
            await asyncio.to_thread(asterisk.start)
            rows = await service.settled(within=30)
        finally:
            await service.stop()
        [settled] = [r for r in rows if r.uniqueid == row.uniqueid]
        assert settled.consent == Consent.GIVEN
        assert settled.recording_status == RecordingStatus.COMPLETE, settled
        assert settled.interrupted_by == "pbx"
        assert settled.ended_at is not None
        assert abs((settled.ended_at - hung_up_at).total_seconds()) <= 1.0  # the end seen
        with wave.open(str(mix), "rb") as wav:
            seconds = wav.getnframes() / wav.getframerate()
        assert settled.duration_seconds == pytest.approx(seconds)
        assert seconds >= 3.0
        assert settled.sha256 == sha256_of(mix)
        caller, agent_leg = leg_files(mix)
        assert settled.caller_leg_sha256 == sha256_of(caller)
        assert settled.agent_leg_sha256 == sha256_of(agent_leg)
