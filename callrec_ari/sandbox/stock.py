"""Debian's stock Asterisk 22, as an admin finds it, in a private view of the cached root fs.

Unlike ``asterisk.py`` (callrec's own templates), this runs Debian's ``/etc/asterisk`` and
Debian's ``asterisk.conf`` paths unchanged, as user ``asterisk`` like Debian's service unit.
The root file system is shared and never changed: every folder Asterisk writes or whose
content a test changes is a private folder under ``view``, bind-mounted over its place in a
mount namespace of Asterisk's own. ``view`` mirrors Asterisk's root for exactly those folders,
so from outside it is "Asterisk's root as this machine sees it" (callrec's
``[prompts] asterisk_root``) and ``view/etc/asterisk`` is the configuration to edit.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from callrec_ari.errors import SandboxError
from callrec_ari.sandbox.wiring import merge

log = structlog.get_logger(__name__)

SOUNDS = "usr/share/asterisk/sounds"
# Folders inside the root file system replaced by private ones: copied from the root file
# system (True) or empty (False). /run holds the control socket; /tmp keeps Asterisk's
# scratch files out of the shared tree.
_PRIVATE = {
    "etc/asterisk": True,
    "etc/alternatives": True,
    SOUNDS: False,  # shaped as Debian ships it by _stock_sounds
    "var/lib/asterisk": True,  # astdb and keys
    "var/spool/asterisk": False,
    "var/log/asterisk": False,
    "run": False,
    "tmp": False,
}
_OWNED_BY_ASTERISK = ("var/spool/asterisk", "var/log/asterisk", "var/lib/asterisk")
# Mounts, then Asterisk as Debian's unit starts it (-U/-G asterisk). The umask is what the
# README asks of the service (UMask=0007), so recordings are group-readable and deletable.
_IN_NAMESPACE = """set -e
root=$1; view=$2; shift 2
mount -t proc proc "$root/proc"
for sub in "$@"; do mount --bind "$view/$sub" "$root/$sub"; done
umask 007
exec chroot "$root" /usr/sbin/asterisk -f -n -U asterisk -G asterisk
"""


@dataclass(frozen=True, kw_only=True)
class StockAddresses:
    """Where the stock instance and its peers listen: addresses nothing else on the machine uses
    (the numbered sandbox slots have 127.0.1-16.x)."""

    sip_host: str = "127.0.100.1"
    sip_port: int = 5060
    ari_port: int = 8088  # on sip_host
    trunk_host: str = "127.0.100.2"
    trunk_port: int = 5070
    phone_host: str = "127.0.100.3"
    phone_port: int = 5060
    # Above the numbered slots' ranges (40000 + slot * 1000, slots up to 16).
    rtp_start: int = 56000
    rtp_end: int = 56999
    ari_user: str = "callrec"
    ari_password: str = field(default="stock-test-secret", repr=False)

    @property
    def ari_url(self) -> str:
        """Base URL of ARI's HTTP server."""
        return f"http://{self.sip_host}:{self.ari_port}"


class StockAsterisk:
    """Prepare, start, stop and talk to one stock Asterisk; requires root (mount, chroot)."""

    def __init__(self, rootfs: Path, view: Path, addresses: StockAddresses) -> None:
        self.rootfs = rootfs
        self.view = view
        self.addresses = addresses
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def etc(self) -> Path:
        """``/etc/asterisk`` as this process sees it: the copy to wire."""
        return self.view / "etc/asterisk"

    @property
    def sounds_dir(self) -> Path:
        """Asterisk's sounds folder as this process sees it."""
        return self.view / SOUNDS

    @property
    def log_dir(self) -> Path:
        """``/var/log/asterisk`` as this process sees it."""
        return self.view / "var/log/asterisk"

    def host_path(self, inside: str) -> Path:
        """A path inside Asterisk's root (``/var/spool/...``) as this process sees it."""
        return self.view / inside.lstrip("/")

    def prepare(self) -> None:
        """Make the private folders: stock copies, an empty spool, log and run, stock sounds."""
        if os.geteuid() != 0:
            raise SandboxError("The stock Asterisk needs root (it uses chroot and mount).")
        if self.view.exists():
            shutil.rmtree(self.view)
        for sub, copied in _PRIVATE.items():
            target = self.view / sub
            if copied:
                target.parent.mkdir(parents=True, exist_ok=True)
                # cp -a keeps owners and modes: Debian's /etc/asterisk is asterisk's, 0640.
                subprocess.run(["cp", "-a", str(self.rootfs / sub), str(target)], check=True)
            else:
                target.mkdir(parents=True)
        uid, gid = self.asterisk_ids()
        for sub in _OWNED_BY_ASTERISK:
            os.chown(self.view / sub, uid, gid)
        (self.view / "run/asterisk").mkdir()
        os.chown(self.view / "run/asterisk", uid, gid)
        (self.view / "run/lock").mkdir(mode=0o1777)
        (self.view / "tmp").chmod(0o1777)
        self._stock_sounds()

    def isolate(self) -> None:
        """Move what Debian's configuration binds by itself (IAX2 on every address, the manager
        interface on 127.0.0.1:5038, RTP from 10000) to this instance's own address and
        ports, so it runs beside other Asterisks on the machine. Only addresses and ports
        change; the wiring itself is the README's."""
        a = self.addresses
        for name, keys in (
            ("rtp.conf", {"rtpstart": a.rtp_start, "rtpend": a.rtp_end}),
            ("manager.conf", {"bindaddr": a.sip_host}),
            ("iax.conf", {"bindaddr": a.sip_host}),
        ):
            path = self.etc / name
            lines = "".join(f"{key} = {value}\n" for key, value in keys.items())
            path.write_text(merge(path.read_text(encoding="utf-8"), f"[general]\n{lines}"))

    def asterisk_ids(self) -> tuple[int, int]:
        """User and group id of ``asterisk`` in the root file system."""
        for line in (self.rootfs / "etc/passwd").read_text(encoding="utf-8").splitlines():
            fields = line.split(":")
            if fields[0] == "asterisk":
                return int(fields[2]), int(fields[3])
        raise SandboxError(f"The root file system {self.rootfs} has no user asterisk.")

    def _stock_sounds(self) -> None:
        """Sounds as the packages install them: their folders (empty; only callrec's prompts
        are played here), their links, and each alternative's absolute link into
        /etc/alternatives, which the shared sandbox rewrites in the root file system."""
        source = self.rootfs / SOUNDS
        packaged = _packaged_entries(self.rootfs, f"/{SOUNDS}/")
        alternatives = _alternative_links(self.rootfs, f"/{SOUNDS}/")
        for entry in sorted(source.iterdir()):
            target = self.sounds_dir / entry.name
            if entry.name in alternatives:
                target.symlink_to(f"/etc/alternatives/{alternatives[entry.name]}")
            elif entry.name not in packaged:
                continue  # added by callrec's own sandbox (pl, fi, ...), not Debian's
            elif entry.is_symlink():
                target.symlink_to(entry.readlink())
            elif entry.is_dir():
                target.mkdir()

    def start(self, timeout: float = 60.0) -> None:
        """Start Asterisk (after ``prepare`` and wiring) and wait until ARI answers."""
        console = (self.view / "console.log").open("ab")
        with console:
            namespace = ["unshare", "--mount", "--propagation", "private", "--"]
            script = ["sh", "-c", _IN_NAMESPACE, "sh", str(self.rootfs), str(self.view)]
            self._process = subprocess.Popen(
                [*namespace, *script, *_PRIVATE],
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise SandboxError(
                    f"The stock Asterisk exited with status {self._process.returncode} at "
                    f"start-up; see {self.view / 'console.log'}."
                )
            if self.ari_ready():
                log.info("stock.asterisk.started", pid=self._process.pid)
                return
            time.sleep(0.1)
        raise SandboxError(f"The stock Asterisk's ARI did not answer within {timeout:.0f} s.")

    def ari_ready(self) -> bool:
        """Whether ARI answers an authenticated request right now."""
        a = self.addresses
        token = base64.b64encode(f"{a.ari_user}:{a.ari_password}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - a fixed http:// loopback URL.
            f"{a.ari_url}/ari/asterisk/info", headers={"Authorization": f"Basic {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=1) as response:  # noqa: S310
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def cli(self, command: str) -> str:
        """Run one Asterisk CLI command inside the instance's namespace and root."""
        if self._process is None or self._process.poll() is not None:
            raise SandboxError("The stock Asterisk is not running.")
        enter = ["nsenter", f"--target={self._process.pid}", "--mount", "--root", "--wd"]
        result = subprocess.run(
            [*enter, "asterisk", "-rx", command],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        if result.returncode != 0:
            raise SandboxError(f"Asterisk CLI command {command!r} failed: {result.stderr.strip()}")
        return result.stdout

    def stop(self, timeout: float = 15.0) -> None:
        """Stop Asterisk gracefully (SIGKILL after ``timeout``); its mounts go with it."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _packaged_entries(rootfs: Path, folder: str) -> set[str]:
    """Names directly inside ``folder`` that some installed package ships (dpkg's lists)."""
    names: set[str] = set()
    for listing in (rootfs / "var/lib/dpkg/info").glob("*.list"):
        for line in listing.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(folder) and "/" not in line.removeprefix(folder):
                names.add(line.removeprefix(folder))
    return names


def _alternative_links(rootfs: Path, folder: str) -> dict[str, str]:
    """Link name inside ``folder`` -> alternative name, from dpkg's alternatives database."""
    links: dict[str, str] = {}
    for alternative in (rootfs / "var/lib/dpkg/alternatives").iterdir():
        lines = alternative.read_text(encoding="utf-8", errors="replace").splitlines()
        link = lines[1] if len(lines) > 1 else ""  # line 1 is the mode, line 2 the link
        if link.startswith(folder) and "/" not in link.removeprefix(folder):
            links[link.removeprefix(folder)] = alternative.name
    return links
