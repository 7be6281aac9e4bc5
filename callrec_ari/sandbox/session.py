"""One local Asterisk 22 sandbox ready for callrec: root file system, config, prompts, a phone.

``SandboxSession`` is what the demo, the acceptance tests and the benchmarks start, and
``sandbox_config`` points a callrec configuration at it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

import structlog

from callrec_ari.prompts.install import install_prompts
from callrec_ari.sandbox.asterisk import AsteriskSandbox, SandboxSettings
from callrec_ari.sandbox.lock import InstanceLock, claim_slot
from callrec_ari.sandbox.rootfs import ensure_rootfs
from callrec_ari.sandbox.sipp import SippAgent

log = structlog.get_logger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[2]
DIALPLAN_DIR = PROJECT_DIR / "dialplan"
PROMPTS_DIR = PROJECT_DIR / "prompts"


def lock_dir(cache_dir: Path) -> Path:
    """Where the instances' locks live (outside the root file system, which may be rebuilt)."""
    return cache_dir / "locks"


def instance_lock(cache_dir: Path, settings: SandboxSettings) -> InstanceLock:
    """The lock of the instance ``settings`` names."""
    return InstanceLock(lock_dir(cache_dir), settings.name)


class SandboxSession:
    """Builds (or reuses) the root file system, starts Asterisk and a staff phone; stops both.

    The session holds its instance's lock from ``start`` to ``stop``: a second session of the
    same instance is refused with one sentence instead of killing the first one's Asterisk.
    """

    def __init__(
        self,
        cache_dir: Path,
        *,
        settings: SandboxSettings | None = None,
        prompts_dir: Path = PROMPTS_DIR,
        workdir: Path | None = None,
        lock: InstanceLock | None = None,
        command: str = "callrec sandbox",
        keep_recordings: bool = True,
    ) -> None:
        self.settings = settings or SandboxSettings()
        self.cache_dir = cache_dir
        self.prompts_dir = prompts_dir
        self.workdir = workdir or cache_dir / "work" / self.settings.name
        self.lock = lock or instance_lock(cache_dir, self.settings)
        self.command = command
        # A person's sandbox keeps its database in var/ across restarts, and its rows must
        # not outlive the files they point at; test runs and benchmarks start afresh.
        self.keep_recordings = keep_recordings
        self.asterisk: AsteriskSandbox | None = None
        self.agent: SippAgent | None = None

    @classmethod
    def claim(
        cls,
        cache_dir: Path,
        *,
        command: str,
        prompts_dir: Path = PROMPTS_DIR,
        workdir: Path | None = None,
        system_name: str = "",
    ) -> SandboxSession:
        """A session on the first free numbered slot (for test runs and benchmarks);
        ``system_name`` makes its Asterisk a named node (``SandboxSettings.system_name``)."""
        slot, lock = claim_slot(lock_dir(cache_dir), command)
        return cls(
            cache_dir,
            settings=replace(SandboxSettings.for_slot(slot), system_name=system_name),
            prompts_dir=prompts_dir,
            workdir=workdir,
            lock=lock,
            command=command,
            keep_recordings=False,
        )

    def start(
        self, *, before_start: Callable[[AsteriskSandbox], None] | None = None
    ) -> AsteriskSandbox:
        """Prepare a fresh instance, install the built prompts, start Asterisk and the phone.

        ``before_start`` gets the prepared instance before Asterisk starts: a mount made then
        (the benchmark's recordings disk) is in the mount namespace Asterisk starts in.
        """
        if not self.lock.held:
            self.lock.acquire(self.command)
        try:
            rootfs = ensure_rootfs(self.cache_dir)
            asterisk = AsteriskSandbox(rootfs, self.settings, DIALPLAN_DIR)
            asterisk.prepare(keep_recordings=self.keep_recordings)
            installed = install_prompts(self.prompts_dir, asterisk.host_sounds_dir)
            log.info("sandbox.prompts.installed", count=len(installed))
            self.asterisk = asterisk
            if before_start is not None:
                before_start(asterisk)
            asterisk.start()
            self.agent = SippAgent(
                self.settings.phones[0],
                self.workdir / "agent",
                pid_file=lock_dir(self.cache_dir) / f"{self.settings.name}-agent.pid",
            )
            self.agent.start()
        except BaseException:
            self.stop()
            raise
        return asterisk

    def stop(self) -> None:
        """Stop the phone and Asterisk, and let go of the instance."""
        try:
            if self.agent is not None:
                self.agent.stop()
                self.agent = None
            if self.asterisk is not None:
                self.asterisk.stop()
                self.asterisk = None
        finally:
            self.lock.release()

    def __enter__(self) -> AsteriskSandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def sandbox_config(data: Mapping[str, Any], asterisk: AsteriskSandbox) -> dict[str, Any]:
    """Config data (decoded TOML) pointed at the sandbox: its ARI, recordings and sounds folders.

    Works on the raw data rather than on ``Settings`` so that the result can also be written
    out for a ``callrec run`` process.
    """
    config = copy.deepcopy(dict(data))
    sandbox = asterisk.settings
    config.setdefault("ari", {}).update(
        url=sandbox.ari_url,
        username=sandbox.ari_user,
        password=sandbox.ari_password,
        app=sandbox.ari_app,
    )
    config.setdefault("recording", {}).update(
        asterisk_dir=str(asterisk.recordings_asterisk_dir),
        service_dir=str(asterisk.recordings_service_dir),
    )
    config.setdefault("prompts", {}).update(sounds_dir=str(asterisk.host_sounds_dir))
    return config
