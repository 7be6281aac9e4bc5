"""The built image as a deployment beside Asterisk meets it: run as uid 10001 with ffmpeg,
the example config mounted, migrations at start, /healthz reachable through the published
port, and Asterisk's recordings deleted through Asterisk's group."""

from __future__ import annotations

import asyncio
import json
import os
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import tomli_w

from callrec_ari.db.migrate import head_revision, upgrade_to_head
from callrec_ari.sandbox.service import free_port
from tests.ari.fake_server import FakeAsterisk, Reply
from tests.container.conftest import BUILD_TIMEOUT, Podman, chown_tree, podman_command
from tests.lifecycle.conftest import file_of, recorded, store
from tests.support.database import on_database

pytestmark = [pytest.mark.container, pytest.mark.timeout(BUILD_TIMEOUT)]

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
RECORDINGS = "/var/spool/asterisk/callrec"  # [recording] service_dir in the example config
# slirp4netns: the container reaches this machine's loopback at 10.0.2.2, and a port
# published on 127.0.0.1 only; nothing is exposed beyond this machine.
NETWORK = ["--network", "slirp4netns:allow_host_loopback=true"]
HOST_LOOPBACK = "10.0.2.2"
ASTERISK_UID = ASTERISK_GID = 2000  # another user, as Asterisk's own is on a real host
SERVICE_UID = 10001


def example_config(path: Path, **changes: dict[str, Any]) -> Path:
    """config.example.toml adapted as the README says for a container, written to ``path``."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["service"]["host"] = "0.0.0.0"  # noqa: S104 - inside the container, published on loopback
    data["log"]["format"] = "json"
    for table, values in changes.items():
        data[table].update(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    path.chmod(0o644)
    return path


def callrec_lines(stderr: str) -> list[str]:
    """stderr without podman's own log lines (``time="..." level=...``)."""
    return [line for line in stderr.splitlines() if not line.startswith('time="')]


def recordings_folder(path: Path) -> Path:
    """Asterisk's recordings folder: its user's, group-writable with setgid (README)."""
    path.mkdir()
    os.chown(path, ASTERISK_UID, ASTERISK_GID)
    path.chmod(0o2770)
    return path


def test_the_image_runs_as_uid_10001_with_ffmpeg_espeak_and_only_what_it_needs(
    podman: Podman,
):
    """The service's user, a virtual environment, ffmpeg for prompt uploads, espeak-ng, and
    no checkout clutter (.dockerignore); the image declares a HEALTHCHECK."""
    script = (
        "id -u; id -g; command -v callrec; ffmpeg -hide_banner -version | head -n 1; "
        "espeak-ng --version; ls -A /app; readlink /etc/callrec/var /etc/callrec/prompts"
    )
    result = podman.run("--entrypoint", "sh", command=["-c", script])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == ["10001", "10001", "/opt/callrec/bin/callrec"]
    assert lines[3].startswith("ffmpeg version")
    assert lines[4].startswith("eSpeak NG text-to-speech")
    shipped = set(lines[5:-2])
    assert {"callrec_ari", "migrations", "prompts", "pyproject.toml"} <= shipped
    assert not shipped & {".venv", ".git", "tests", "artifacts", "bench", ".ci"}
    assert lines[-2:] == ["/var/lib/callrec", "/var/lib/callrec/prompts"]
    image = podman.image.image_id
    healthcheck = json.loads(podman_command("image", "inspect", image).stdout)[0]["Healthcheck"]
    assert healthcheck["Test"] == ["CMD", "callrec-health"]


async def health(url: str) -> tuple[int, dict[str, Any]] | None:
    """``GET url`` once: its status and body, or None if nothing answers yet."""
    try:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return response.status, await response.json()
    except (aiohttp.ClientError, ConnectionError):
        return None


async def until_healthy(url: str, *, seconds: float = 60) -> dict[str, Any]:
    """Poll ``url`` until it answers 200; its body then."""
    async with asyncio.timeout(seconds):
        while True:
            answer = await health(url)
            if answer is not None and answer[0] == 200:
                return answer[1]
            await asyncio.sleep(0.25)


async def test_the_example_config_migrates_then_serves_healthz_on_the_published_port(
    podman: Podman, tmp_path: Path
):
    """The issue's path: config.example.toml mounted at /etc/callrec/config.toml (relative
    paths as shipped), ``callrec migrate``, then the image's default ``run --migrate``: the
    published /healthz is 200 once ARI is connected, the HEALTHCHECK passes, and SIGTERM
    stops the service cleanly."""
    ari = FakeAsterisk()
    ari.reply("GET", "/ari/channels", Reply(200, json=[]))
    ari.reply("GET", "/ari/applications/callrec", Reply(200, json={"channel_ids": []}))
    await ari.start()
    try:
        config = example_config(
            tmp_path / "etc" / "config.toml", ari={"url": f"http://{HOST_LOOPBACK}:{ari.port}"}
        )
        recordings = recordings_folder(tmp_path / "recordings")
        state = podman.volume()
        mounts = [
            *("--volume", f"{config}:/etc/callrec/config.toml:ro"),
            *("--volume", f"{recordings}:{RECORDINGS}"),
            *("--volume", f"{state}:/var/lib/callrec"),
            *("--group-add", str(ASTERISK_GID)),
        ]
        migrated = await asyncio.to_thread(podman.run, *mounts, command=["migrate"])
        assert migrated.returncode == 0, migrated.stderr
        assert f"database at revision {head_revision()}" in migrated.stdout
        assert "sqlite+aiosqlite:////var/lib/callrec/callrec.db" in migrated.stdout

        port = free_port()
        name = await asyncio.to_thread(
            podman.start, *mounts, *NETWORK, "--publish", f"127.0.0.1:{port}:8089"
        )
        body = await until_healthy(f"http://127.0.0.1:{port}/healthz")
        assert body["ari_connected"] is True
        assert body["tasks_failing"] == []
        check = await asyncio.to_thread(podman_command, "healthcheck", "run", name, check=False)
        assert check.returncode == 0, check.stdout + check.stderr
        await asyncio.to_thread(podman_command, "stop", "--time", "20", name)
        ended = await asyncio.to_thread(
            podman_command, "inspect", "--format", "{{.State.ExitCode}}", name
        )
        logs = await asyncio.to_thread(podman_command, "logs", name)
    finally:
        await ari.stop()
    assert ended.stdout.strip() == "0", logs.stdout + logs.stderr
    assert "Traceback" not in logs.stdout + logs.stderr
    lines = (logs.stdout + logs.stderr).splitlines()
    events = [json.loads(line)["event"] for line in lines if line.startswith("{")]
    assert "config.paths" in events


def test_a_config_folder_mounted_over_etc_callrec_is_one_sentence_naming_the_key(
    podman: Podman, tmp_path: Path
):
    """Mounting a whole folder over /etc/callrec hides the image's var link: the relative
    journal cannot be made there, and callrec says so in one line, without a traceback."""
    folder = tmp_path / "etc"
    example_config(folder / "config.toml")
    folder.chmod(0o755)
    result = podman.run("--volume", f"{folder}:/etc/callrec:ro", command=["migrate"])
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert callrec_lines(result.stderr) == [
        "callrec: Config key [database] journal_dir needs the folder /etc/callrec/var/journal, "
        "which callrec cannot write (Read-only file system); relative paths are taken from the "
        "config file's folder /etc/callrec, so give an absolute path on a writable volume "
        "(in the container image: under /var/lib/callrec)."
    ]


def seeded_state(tmp_path: Path, recordings: Path) -> tuple[Path, Path]:
    """A state folder with a migrated SQLite database holding two calls whose WAVs Asterisk's
    user wrote: one past its retention, one whose caller will ask for erasure."""
    state = tmp_path / "state"
    state.mkdir()
    url = f"sqlite+aiosqlite:///{state / 'callrec.db'}"
    upgrade_to_head(url)
    now = datetime.now(UTC)
    expired = recorded("1700000001.1", recordings, start=now - timedelta(days=400))
    erased = recorded(
        "1700000002.2",
        recordings,
        start=now - timedelta(days=1),
        policy="months-6",
        caller_number="48227654321",
        caller_e164="+48227654321",
    )
    on_database(url, lambda sessions: store(sessions, expired, erased))
    chown_tree(state, SERVICE_UID, SERVICE_UID)
    chown_tree(recordings, ASTERISK_UID, ASTERISK_GID)
    for item in recordings.rglob("*"):
        item.chmod(0o2770 if item.is_dir() else 0o640)
    return file_of(recordings, expired), file_of(recordings, erased)


def test_with_asterisks_group_erasure_and_purge_delete_what_asterisks_user_wrote(
    podman: Podman, tmp_path: Path
):
    """Recordings owned by Asterisk's uid in a setgid, group-writable folder: uid 10001
    with ``--group-add`` Asterisk's gid erases a caller's call and purges an expired one;
    without the group the purge stops with one sentence and deletes nothing."""
    recordings = recordings_folder(tmp_path / "recordings")
    expired_wav, erased_wav = seeded_state(tmp_path, recordings)
    config = example_config(
        tmp_path / "etc" / "config.toml",
        database={"url": "sqlite+aiosqlite:////var/lib/callrec/callrec.db"},
    )
    mounts = [
        *("--volume", f"{config}:/etc/callrec/config.toml:ro"),
        *("--volume", f"{recordings}:{RECORDINGS}"),
        *("--volume", f"{tmp_path / 'state'}:/var/lib/callrec"),
    ]
    without = podman.run(*mounts, command=["purge", "--no-progress"])
    assert without.returncode != 0
    [refused] = callrec_lines(without.stderr)
    assert refused.startswith("callrec: The purge stopped because the recording /var/spool/")
    assert refused.endswith(
        "could not be deleted (Permission denied); give callrec's user the recordings "
        "folder's shared group, then run it again."
    )
    assert expired_wav.exists()

    group = ["--group-add", str(ASTERISK_GID)]
    erase = podman.run(
        *mounts, *group, command=["erase", "+48227654321", "--reason", "the caller asked us"]
    )
    assert erase.returncode == 0, erase.stderr
    assert (
        erase.stdout == "+48227654321: erased 1 call(s), deleted 1 recording(s) (0 already gone)\n"
    )
    assert not erased_wav.exists()
    purge = podman.run(*mounts, *group, command=["purge", "--no-progress"])
    assert purge.returncode == 0, purge.stderr
    assert purge.stdout == (
        "purged 1 call (1 by retention, 0 by erasure): 1 recording deleted, 0 already missing\n"
    )
    assert not expired_wav.exists()
