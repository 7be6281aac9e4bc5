"""Debian's stock Asterisk 22 wired exactly as the README says, then real calls (issue 9, §4).

Not the sandbox's templates: Debian's own /etc/asterisk (a copy) with the samples of
``dialplan/`` merged in by the README's rule (``callrec_ari.sandbox.wiring``); only addresses,
ports and passwords are substituted. Asterisk runs as user asterisk in a private mount
namespace over the shared root file system (``callrec_ari.sandbox.stock``), on 127.0.100.x
under the lock "stock", so it runs beside every other instance on the machine.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from callrec_ari.config import read
from callrec_ari.config.encryption import read_master_key
from callrec_ari.crypto.keys import LocalMasterKeys
from callrec_ari.crypto.store import data_key
from callrec_ari.db import lookup
from callrec_ari.db.session import open_sessions
from callrec_ari.recording.audio import sealed_path, stored_audio
from callrec_ari.recording.audio import sha256_of as audio_sha256
from callrec_ari.records import Consent, RecordingStatus
from callrec_ari.sandbox.asterisk import Phone, SandboxSettings
from callrec_ari.sandbox.lock import InstanceLock
from callrec_ari.sandbox.rootfs import ensure_rootfs
from callrec_ari.sandbox.service import ServiceProcess
from callrec_ari.sandbox.session import DIALPLAN_DIR, PROJECT_DIR, lock_dir
from callrec_ari.sandbox.sipp import (
    CallerScript,
    CallResult,
    SippAgent,
    place_calls,
    register_phone,
)
from callrec_ari.sandbox.stock import StockAddresses, StockAsterisk
from callrec_ari.sandbox.wiring import wire
from tests.acceptance.conftest import CACHE

pytestmark = pytest.mark.asterisk

ADDRESSES = StockAddresses()
PHONE = Phone(endpoint="reception", host=ADDRESSES.phone_host, port=ADDRESSES.phone_port)
PHONE_PASSWORD = "stock-phone-secret"
RECORDINGS = "/var/spool/asterisk/callrec"  # [recording] asterisk_dir, as in the README
SHORT_DID = "5557000"  # a route whose announcement is the 2.75 s decline hint: a quick test
# What an admin types into the samples: this instance's addresses, ports and passwords.
REPLACEMENTS = {
    # This config offers no decline key (stock_config), so no withdrawal item either.
    "extensions.conf.sample": {
        "CALLREC_WITHDRAW_FEATURE = callrec-withdraw-9": "CALLREC_WITHDRAW_FEATURE =",
    },
    "pjsip.conf.sample": {
        "bind = 0.0.0.0:5060": f"bind = {ADDRESSES.sip_host}:{ADDRESSES.sip_port}",
        "contact = sip:sip.provider.example": (
            f"contact = sip:{ADDRESSES.trunk_host}:{ADDRESSES.trunk_port}"
        ),
        "match = 192.0.2.10": f"match = {ADDRESSES.trunk_host}",
        "password = change-me-phone-secret": f"password = {PHONE_PASSWORD}",
    },
    "http.conf.sample": {
        "bindaddr = 127.0.0.1": f"bindaddr = {ADDRESSES.sip_host}",
        "bindport = 8088": f"bindport = {ADDRESSES.ari_port}",
    },
    "ari.conf.sample": {
        "password = change-me-to-a-long-random-secret": f"password = {ADDRESSES.ari_password}",
    },
}


@dataclass
class Stock:
    """The wired stock Asterisk, its registered phone and the callrec config pointing at it."""

    asterisk: StockAsterisk
    agent: SippAgent
    config: dict[str, Any]
    workdir: Path
    install: subprocess.CompletedProcess[str]

    @property
    def sip(self) -> SandboxSettings:
        """Where sipp callers send their calls (the trunk's address is how Asterisk knows them)."""
        return SandboxSettings(
            name="stock",
            sip_host=ADDRESSES.sip_host,
            sip_port=ADDRESSES.sip_port,
            trunk_host=ADDRESSES.trunk_host,
            trunk_port=ADDRESSES.trunk_port,
            phones=(PHONE,),
        )

    def service(self, name: str) -> ServiceProcess:
        """``callrec run`` on this config with a database of its own, not started yet."""
        workdir = self.workdir / name
        database = {**self.config["database"], "url": f"sqlite+aiosqlite:///{workdir / 'db'}"}
        return ServiceProcess({**self.config, "database": database}, workdir)


def callrec(*args: str) -> subprocess.CompletedProcess[str]:
    """The ``callrec`` command as an admin runs it."""
    return subprocess.run(
        [sys.executable, "-m", "callrec_ari", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def stock_config(asterisk: StockAsterisk, workdir: Path) -> dict[str, Any]:
    """config.example.toml with the values the README says to set for this Asterisk."""
    data = read(PROJECT_DIR / "config.example.toml")
    data["ari"].update(
        url=ADDRESSES.ari_url,
        username=ADDRESSES.ari_user,
        password=ADDRESSES.ari_password,
        reconnect_max_seconds=2,
    )
    data["recording"].update(
        asterisk_dir=RECORDINGS,
        service_dir=str(asterisk.host_path(RECORDINGS)),
        finalise_timeout_seconds=10,
    )
    # Asterisk runs in a chroot: its sounds folder and its root as this machine sees them.
    data["prompts"].update(
        source_dir=str(PROJECT_DIR / "prompts"),
        sounds_dir=str(asterisk.sounds_dir),
        asterisk_root=str(asterisk.view),
    )
    data["database"].update(url=f"sqlite+aiosqlite:///{workdir / 'callrec.sqlite3'}")
    data["database"]["journal_dir"] = "journal"  # relative: beside the config file
    data["consent"]["decline_key"] = ""
    data["route"].append(
        {"dids": [SHORT_DID], "languages": ["en"], "prompt": "decline-hint", "retention": "days-7"}
    )
    data["web"].update(port=0, secret_key_file=str(workdir / "web-secret.key"))
    return data


@pytest.fixture(scope="module")
def stock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stock]:
    """The README's steps on Debian's /etc/asterisk, Asterisk started, prompts installed with
    ``callrec prompts install``, the reception phone registered and answering."""
    # Its addresses are fixed: one at a time. Its tests may run on several workers, each
    # with this fixture, so a worker waits for another's to finish rather than fail.
    lock = InstanceLock(lock_dir(CACHE), "stock")
    lock.acquire("pytest (stock Asterisk acceptance test)", wait_seconds=300)
    workdir = tmp_path_factory.mktemp("stock")
    asterisk = StockAsterisk(ensure_rootfs(CACHE), workdir / "root", ADDRESSES)
    agent = SippAgent(PHONE, workdir / "agent", media_port=16100)
    try:
        asterisk.prepare()
        asterisk.isolate()
        wire(asterisk.etc, DIALPLAN_DIR, REPLACEMENTS)
        # The recordings folder: Asterisk's user owns it, the group shared with callrec keeps
        # every file and day folder in it (setgid), and Asterisk runs with umask 007.
        recordings = asterisk.host_path(RECORDINGS)
        recordings.mkdir()
        os.chown(recordings, *asterisk.asterisk_ids())
        recordings.chmod(0o2770)
        asterisk.start()
        config = stock_config(asterisk, workdir)
        config_path = workdir / "config.toml"
        config_path.write_text(tomli_w.dumps(config), encoding="utf-8")
        install = callrec("prompts", "install", "-c", str(config_path))
        assert install.returncode == 0, install.stderr
        register_phone(
            (ADDRESSES.sip_host, ADDRESSES.sip_port),
            PHONE,
            username="reception",
            password=PHONE_PASSWORD,
            workdir=workdir / "register",
            local_port=5061,
        )
        agent.start()
        yield Stock(asterisk=asterisk, agent=agent, config=config, workdir=workdir, install=install)
    finally:
        agent.stop()
        asterisk.stop()
        lock.release()


def wire_time(result: CallResult, event: str, caller: str) -> datetime:
    """When the caller's sipp logged ``event`` (answered, hangup)."""
    return logged_time(
        next(line for line in result.log.splitlines() if line.startswith(f"{event} {caller} "))
    )


def logged_time(line: str) -> datetime:
    """The time in a sipp log line ``<event> <who> <seconds> <microseconds>``."""
    seconds, micros = line.split()[2:4]
    return datetime.fromtimestamp(float(seconds) + float(micros) / 1e6, UTC)


def seconds_apart(stored: datetime | None, seen: datetime) -> float:
    """How far a stored time is from what sipp saw on the wire."""
    assert stored is not None
    return abs((stored - seen).total_seconds())


def test_prompts_install_follows_debians_alternatives_link(stock: Stock, tmp_path: Path):
    """Debian's sounds/en -> /etc/alternatives/asterisk-prompt-en is followed inside Asterisk's
    root to en_US_f_Allison, and the command says so; without asterisk_root it stops with
    one sentence naming the link, its target and what to do."""
    sounds = stock.asterisk.sounds_dir
    assert (sounds / "en").readlink() == Path("/etc/alternatives/asterisk-prompt-en")
    real = sounds / "en_US_f_Allison" / "callrec"
    assert f"{sounds / 'en' / 'callrec'} is reached through a symbolic link" in stock.install.stdout
    assert f"the prompts went to {real}" in stock.install.stdout
    assert (real / "decline-hint.wav").exists()
    assert (sounds / "pl" / "callrec" / "announcement.wav").exists()

    outside = {**stock.config, "prompts": {**stock.config["prompts"], "asterisk_root": "/"}}
    config = tmp_path / "outside.toml"
    config.write_text(tomli_w.dumps(outside), encoding="utf-8")
    refused = callrec("prompts", "install", "-c", str(config))
    assert refused.returncode == 2
    [message] = refused.stderr.strip().splitlines()
    assert message.startswith(f"callrec: Sound folder {sounds / 'en'} is a symbolic link to ")
    assert "/etc/alternatives/asterisk-prompt-en" in message
    assert "set [prompts] asterisk_root" in message


async def test_a_call_through_the_readme_wiring_is_recorded(stock: Stock):
    """Trunk -> callrec-inbound -> Stasis -> announcement -> MixMonitor -> [callrec-route] ->
    the registered phone: the row says given/complete, and the recording is sealed as the example
    config asks and opens to the audio the row's hash names."""
    process = stock.service("recorded")
    await asyncio.to_thread(process.migrate)
    await asyncio.to_thread(process.start)
    try:
        caller = "48225000001"
        script = CallerScript(did=SHORT_DID, caller=caller, wait_ms=2750 + 1500, talk_ms=2000)
        result = await place_calls(stock.sip, script, stock.workdir / "caller-recorded")
        assert result.ok, result.errors
        await asyncio.to_thread(process.wait_idle, 30)
    finally:
        process.stop()
    [row] = await lookup.latest(process.database_url, 10)
    assert (row.consent, row.recording_status) == (Consent.GIVEN, RecordingStatus.COMPLETE)
    assert (row.caller_number, row.dialled_number, row.agent) == (caller, SHORT_DID, "reception")
    assert row.retention_policy == "days-7"
    wav = stock.asterisk.host_path(RECORDINGS) / str(row.recording_path)
    # The example config encrypts: only <name>.wav.enc is left, and it opens to the audio the
    # row's hash names with the master key the service made beside its config.
    assert not wav.exists()
    keys = LocalMasterKeys(read_master_key(process.workdir / "var" / "master.key"))
    async with open_sessions(process.database_url) as sessions, sessions() as session:
        key = await data_key(session, keys, str(row.recording_path))
    audio = stored_audio(wav, key)
    assert audio is not None
    assert audio.encrypted
    assert row.sha256 == audio_sha256(audio)
    assert row.answered_at is not None
    assert row.ended_at is not None
    talk = (row.ended_at - row.answered_at).total_seconds()
    assert row.duration_seconds == pytest.approx(talk, abs=1.0)  # bridged time only
    sealed = sealed_path(wav)
    assert sealed.stat().st_mode & 0o077 == 0  # only callrec reads the sealed file...
    assert sealed.parent.stat().st_mode & 0o2070 == 0o2070  # ...the group still manages the folder
    paths = (process.workdir / "service.log").read_text(encoding="utf-8")
    assert "config.paths" in paths
    assert str(process.workdir / "journal") in paths  # relative: from the config's folder


async def test_fail_open_on_stock_debian_leaves_a_service_unavailable_row(stock: Stock):
    """With callrec stopped the call goes straight to the phone, unrecorded; once callrec is
    back, the register gives that call its row with times within a second of sipp's."""
    recordings = stock.asterisk.host_path(RECORDINGS)
    before = {path for path in recordings.rglob("*") if path.suffix in {".wav", ".done"}}
    caller = "48225000002"
    script = CallerScript(did="5559999", caller=caller, wait_ms=500, talk_ms=2000)
    result = await place_calls(stock.sip, script, stock.workdir / "caller-fail-open")
    assert result.ok, result.errors
    [invited] = [line for line in stock.agent.invites() if line.startswith(f"invite sip:{caller} ")]
    assert {p for p in recordings.rglob("*") if p.suffix in {".wav", ".done"}} == before

    process = stock.service("fail-open")
    await asyncio.to_thread(process.migrate)
    await asyncio.to_thread(process.start)
    try:
        for _ in range(100):
            rows = await lookup.latest(process.database_url, 10)
            if rows:
                break
            await asyncio.sleep(0.1)
    finally:
        process.stop()
    [row] = rows
    assert row.consent == Consent.SERVICE_UNAVAILABLE
    assert row.recording_status == RecordingStatus.NONE
    assert row.recording_path is None
    assert (row.caller_number, row.dialled_number, row.agent) == (caller, "5559999", "reception")
    assert row.retention_policy == "months-6"  # the default route's
    # Stasis() fails at once and Dial() follows: the phone rings as the call starts.
    assert seconds_apart(row.started_at, logged_time(invited)) < 1
    assert seconds_apart(row.answered_at, wire_time(result, "answered", caller)) < 1
    assert seconds_apart(row.ended_at, wire_time(result, "hangup", caller)) < 1
    assert not recordings.joinpath("unrecorded-calls.log").exists()  # imported, then deleted
