"""A local Asterisk 22 in a chroot, wired to callrec's dialplan: for the demo, tests and benchmarks.

The instance lives in ``<rootfs>/srv/<name>``; it is wiped and rewritten on every start so
runs never see each other's state. Everything listens on loopback only.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath
from string import Template

import structlog

from callrec_ari.errors import SandboxError

log = structlog.get_logger(__name__)

_CONFIG_FILES = (
    "asterisk.conf",
    "modules.conf",
    "logger.conf",
    "http.conf",
    "ari.conf",
    "rtp.conf",
    "pjsip.conf",
    "extensions.conf",
    "queues.conf",
)

# Samples of dialplan/ that are whole files in the sandbox (the withdrawal key and its tone).
_SAMPLES_AS_IS = {
    "features.conf.sample": "features.conf",
    "musiconhold.conf.sample": "musiconhold.conf",
}


# The dialled number [callrec-route] sends to the queue callrec-agents (app_queue), which
# rings the phones one after the other, first to last (templates/queues.conf).
QUEUE_DID = "5550100"


@dataclass(frozen=True, kw_only=True)
class Phone:
    """A staff phone: a pjsip endpoint told apart by its own loopback address."""

    endpoint: str
    host: str
    port: int = 5060


@dataclass(frozen=True, kw_only=True)
class SandboxSettings:
    """Addresses, ports and names of one sandbox instance."""

    name: str = "callrec"
    sip_host: str = "127.0.0.1"
    sip_port: int = 5060
    ari_host: str = "127.0.0.1"
    ari_port: int = 8088
    ari_user: str = "callrec"
    ari_password: str = field(default="sandbox-only-secret", repr=False)
    ari_app: str = "callrec"
    trunk_host: str = "127.0.0.2"
    trunk_port: int = 5070
    # The first phone takes every call of [callrec-route]; the queue's DID (QUEUE_DID) rings
    # them all in this order. 127.0.0.5 is the benchmark's phone (bench/call_setup.py).
    phones: tuple[Phone, ...] = (
        Phone(endpoint="agent100", host="127.0.0.3"),
        Phone(endpoint="agent101", host="127.0.0.6"),
    )
    rtp_start: int = 20000
    rtp_end: int = 29999
    baseline_prompt: str = "announcement"
    baseline_trunk_host: str = "127.0.0.4"  # trunk-baseline: its calls run [baseline]
    baseline_language: str = "en"
    baseline_decline_hint: bool = True  # then callrec/decline-hint, as callrec plays it
    # asterisk.conf systemname: put in front of every uniqueid, as on a node of several
    # sharing one database (README, "Several nodes"); "" leaves uniqueids bare.
    system_name: str = ""
    # The global CALLREC_WITHDRAW_FEATURE: the item of the example config's decline_key ("9").
    # With it the record context names recordings itself for a service with that key; a
    # service with another key sets the channel's variables instead (flow/dialplan_paths.py).
    withdraw_feature: str = "callrec-withdraw-9"

    @property
    def ari_url(self) -> str:
        """Base URL of ARI's HTTP server."""
        return f"http://{self.ari_host}:{self.ari_port}"

    @classmethod
    def for_slot(cls, slot: int) -> SandboxSettings:
        """The settings of numbered instance ``slot``: slot 0 is the person's sandbox; every
        other slot has addresses 127.0.<slot>.1-4 and an RTP range of its own, so instances
        run side by side without taking each other's calls."""
        if slot == 0:
            return cls()
        if not 0 < slot < 250:
            raise SandboxError(f"Sandbox slot {slot} is not between 0 and 249.")
        net = f"127.0.{slot}"
        return cls(
            name=slot_name(slot),
            sip_host=f"{net}.1",
            ari_host=f"{net}.1",
            trunk_host=f"{net}.2",
            phones=(
                Phone(endpoint="agent100", host=f"{net}.3"),
                Phone(endpoint="agent101", host=f"{net}.6"),
            ),
            baseline_trunk_host=f"{net}.4",
            rtp_start=40000 + (slot - 1) * 1000,
            rtp_end=40000 + (slot - 1) * 1000 + 999,
        )


def require_root(what: str) -> None:
    """``SandboxError`` unless this process is root (chroot, mount and mmdebstrap need it)."""
    if os.geteuid() != 0:
        raise SandboxError(f"{what} needs root (it uses chroot and mount); run it with sudo.")


def slot_name(slot: int) -> str:
    """The instance name of ``slot``."""
    return "callrec" if slot == 0 else f"callrec-{slot}"


class AsteriskSandbox:
    """Start, stop and talk to one chrooted Asterisk; requires root (chroot and mount)."""

    def __init__(self, rootfs: Path, settings: SandboxSettings, dialplan_dir: Path) -> None:
        self.rootfs = rootfs
        self.settings = settings
        self.dialplan_dir = dialplan_dir
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def instance(self) -> PurePosixPath:
        """The instance folder as Asterisk sees it."""
        return PurePosixPath("/srv") / self.settings.name

    @property
    def host_instance(self) -> Path:
        """The instance folder as this process sees it."""
        return self.rootfs / "srv" / self.settings.name

    @property
    def recordings_asterisk_dir(self) -> PurePosixPath:
        """Where MixMonitor writes, inside the chroot."""
        return self.instance / "recordings"

    @property
    def recordings_service_dir(self) -> Path:
        """Where the service reads the same recordings."""
        return self.host_instance / "recordings"

    @property
    def baseline_recordings_dir(self) -> Path:
        """Where the benchmark's plain-dialplan baseline records."""
        return self.host_instance / "baseline-recordings"

    @property
    def sounds_root(self) -> PurePosixPath:
        """Asterisk's sounds folder, inside the chroot."""
        return PurePosixPath("/usr/share/asterisk/sounds")

    @property
    def log_file(self) -> Path:
        """Asterisk's full log of this instance."""
        return self.host_instance / "log" / "messages.log"

    def prepare(self, *, keep_recordings: bool = False) -> None:
        """Wipe the instance folder and write a fresh configuration into it.

        ``keep_recordings`` keeps the recordings of earlier starts: the person's sandbox keeps
        its database in ``var/``, and rows must not outlive the files they point at.
        """
        self._kill_leftover()
        if self.host_instance.exists():
            for entry in self.host_instance.iterdir():
                if keep_recordings and entry == self.recordings_service_dir:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        for sub in ("etc", "db", "cache", "spool", "run", "log", "recordings"):
            (self.host_instance / sub).mkdir(parents=True, exist_ok=True)
        self.baseline_recordings_dir.mkdir()
        values = self._template_values()
        templates = resources.files("callrec_ari.sandbox") / "templates"
        for name in _CONFIG_FILES:
            text = Template(templates.joinpath(name).read_text(encoding="utf-8"))
            (self.host_instance / "etc" / name).write_text(
                text.substitute(values), encoding="utf-8"
            )
        self._relink_sounds()
        dialplan = self.dialplan_dir / "extensions_callrec.conf"
        if not dialplan.is_file():
            raise SandboxError(f"The callrec dialplan {dialplan} does not exist.")
        shutil.copy(dialplan, self.host_instance / "etc" / dialplan.name)
        # The product's samples as they are: the sandbox has no other features.conf or
        # musiconhold.conf, so the withdrawal key and its tone are tested exactly as shipped.
        for sample, target in _SAMPLES_AS_IS.items():
            source = self.dialplan_dir / sample
            if not source.is_file():
                raise SandboxError(f"The callrec sample {source} does not exist.")
            shutil.copy(source, self.host_instance / "etc" / target)

    @property
    def host_sounds_dir(self) -> Path:
        """Asterisk's sounds folder as this process sees it (where prompts are installed)."""
        return self.rootfs / self.sounds_root.relative_to("/")

    def _relink_sounds(self) -> None:
        """Make absolute links in sounds/ (en -> /etc/alternatives/...) relative.

        Inside the chroot they resolve fine, but from the host an absolute link points into
        the host's own /etc, so prompts installed from here would land nowhere.
        """
        for link in self.host_sounds_dir.iterdir():
            if not link.is_symlink() or not link.readlink().is_absolute():
                continue
            target = PurePosixPath(link.readlink())
            for _ in range(8):  # follow /etc/alternatives chains inside the root file system
                inside = self.rootfs / target.relative_to("/")
                if not inside.is_symlink():
                    break
                hop = PurePosixPath(inside.readlink())
                target = hop if hop.is_absolute() else target.parent / hop
            inside = self.rootfs / target.relative_to("/")
            if inside.is_dir():
                link.unlink()
                link.symlink_to(os.path.relpath(inside, link.parent))

    def _template_values(self) -> dict[str, str]:
        s = self.settings
        phones = "\n".join(
            f"[{p.endpoint}](endpoint-defaults)\ncontext = phones\naors = {p.endpoint}\n\n"
            f"[{p.endpoint}]\ntype = aor\ncontact = sip:{p.endpoint}@{p.host}:{p.port}\n\n"
            f"[{p.endpoint}]\ntype = identify\nendpoint = {p.endpoint}\nmatch = {p.host}\n"
            for p in s.phones
        )
        baseline_media = [s.baseline_prompt] + (["decline-hint"] if s.baseline_decline_hint else [])
        return {
            "instance": str(self.instance),
            "sip_host": s.sip_host,
            "sip_port": str(s.sip_port),
            "ari_host": s.ari_host,
            "ari_port": str(s.ari_port),
            "ari_user": s.ari_user,
            "ari_password": s.ari_password,
            "ari_app": s.ari_app,
            "trunk_host": s.trunk_host,
            "trunk_port": str(s.trunk_port),
            "phones": phones,
            "first_phone": s.phones[0].endpoint,
            "phone_extensions": "\n".join(
                f"exten => {p.endpoint},1,Dial(PJSIP/{p.endpoint},30)\n same => n,Hangup()"
                for p in s.phones
            ),
            "queue_did": QUEUE_DID,
            "queue_members": "\n".join(f"member => PJSIP/{p.endpoint}" for p in s.phones),
            "rtp_start": str(s.rtp_start),
            "rtp_end": str(s.rtp_end),
            "baseline_prompt": s.baseline_prompt,
            "baseline_trunk_host": s.baseline_trunk_host,
            "baseline_language": s.baseline_language,
            "baseline_playback": "&".join(f"callrec/{name}" for name in baseline_media),
            "baseline_dir": str(self.instance / "baseline-recordings"),
            "system_name": f"systemname = {s.system_name}" if s.system_name else "",
            "recordings_asterisk_dir": str(self.recordings_asterisk_dir),
            "withdraw_feature": s.withdraw_feature,
        }

    def start(self, timeout: float = 60.0) -> None:
        """Start Asterisk (after ``prepare``) and wait until ARI answers."""
        require_root("The Asterisk sandbox")
        # /proc is mounted in a mount namespace of Asterisk's own, so it vanishes with the
        # process and instances sharing the root file system never unmount it for each other.
        in_namespace = 'mount -t proc proc "$1/proc" && exec chroot "$1" asterisk -f -n -C "$2"'
        log_path = self.host_instance / "log" / "console.log"
        with log_path.open("ab") as console:
            self._process = subprocess.Popen(
                [
                    "unshare",
                    "--mount",
                    "--propagation",
                    "private",
                    "--",
                    "sh",
                    "-c",
                    in_namespace,
                    "sh",
                    str(self.rootfs),
                    self._conf(),
                ],
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_ready(timeout)
        log.info("sandbox.asterisk.started", pid=self._process.pid, ari=self.settings.ari_url)

    def wait_ready(self, timeout: float) -> None:
        """Block until ARI answers an authenticated request, or raise ``SandboxError``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise SandboxError(
                    f"Asterisk exited with status {self._process.returncode} at start-up; "
                    f"see {self.host_instance / 'log'}."
                )
            if self.ari_ready():
                return
            time.sleep(0.1)
        raise SandboxError(f"Asterisk's ARI did not answer within {timeout:.0f} seconds.")

    def exit_status(self) -> int | None:
        """Asterisk's exit status if it was started and has exited (reaping it), else None."""
        if self._process is None:
            return None
        return self._process.poll()

    def ari_ready(self) -> bool:
        """Whether ARI answers an authenticated request right now."""
        s = self.settings
        token = base64.b64encode(f"{s.ari_user}:{s.ari_password}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - a fixed http:// loopback URL.
            f"{s.ari_url}/ari/asterisk/info", headers={"Authorization": f"Basic {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=1) as response:  # noqa: S310
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def stop(self, timeout: float = 15.0) -> None:
        """Stop Asterisk gracefully (SIGKILL after ``timeout``)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def kill(self) -> None:
        """Kill Asterisk at once, as a crash would."""
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        self._process = None

    def cli(self, command: str) -> str:
        """Run one Asterisk CLI command over the control socket and return its output."""
        result = subprocess.run(
            ["chroot", str(self.rootfs), "asterisk", "-C", self._conf(), "-rx", command],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        if result.returncode != 0:
            raise SandboxError(f"Asterisk CLI command {command!r} failed: {result.stderr.strip()}")
        return result.stdout

    def _conf(self) -> str:
        return str(self.instance / "etc" / "asterisk.conf")

    def _kill_leftover(self) -> None:
        """Kill an Asterisk left running by an earlier, interrupted run of this instance.

        Only a process that is provably this instance's Asterisk is killed: its root is this
        root file system and its command line names this instance's configuration. A pid
        file can outlive its process and the pid be reused by anything.
        """
        pid_file = self.host_instance / "run" / "asterisk.pid"
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        if not self.owns_process(pid):
            log.info("sandbox.asterisk.pid_file_stale", pid=pid)
            return
        log.warning("sandbox.asterisk.leftover_killed", pid=pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def owns_process(self, pid: int, proc: Path = Path("/proc")) -> bool:
        """Whether process ``pid`` is this instance's Asterisk (root and command line)."""
        try:
            root = (proc / str(pid) / "root").resolve(strict=True)
            argv = (proc / str(pid) / "cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return (
            root == self.rootfs.resolve()
            and bool(argv)
            and Path(argv[0].decode(errors="replace")).name == "asterisk"
            and self._conf().encode() in argv
        )
