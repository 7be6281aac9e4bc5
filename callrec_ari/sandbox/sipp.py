"""sipp as the outside caller (on the trunk's address) and as the staff phone (the agent).

Scenarios live in ``scenarios/`` as templates; the caller's is assembled from parts so one
template covers "talk then hang up", "press a key", and "wait for the far end to hang up".
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import Literal

from callrec_ari.errors import SandboxError
from callrec_ari.sandbox.asterisk import Phone, SandboxSettings

SIPP_SHARE = Path("/usr/share/sip-tester")
AUDIO_PCAP = SIPP_SHARE / "g711a.pcap"  # 7 s of speech, G.711 a-law
_DTMF_NAMES = {"*": "star", "#": "pound"}
_DTMF_KEYS = frozenset("0123456789*#")
# The caller's From header with its tag, for the phone's own requests in the dialog (REFER),
# and the PBX's @host:port from its Contact, for the URIs of the transfer.
_REMEMBER_CALLER = (
    '      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true"'
    ' assign_to="remote_party"/>\n'
    '      <ereg regexp="@[^;>]*" search_in="hdr" header="Contact:" check_it="true"'
    ' assign_to="pbx"/>\n'
)
_TARGET = re.compile(r"[A-Za-z0-9_.+-]{1,64}")


def _template(name: str) -> Template:
    text = (resources.files("callrec_ari.sandbox") / "scenarios" / name).read_text("utf-8")
    return Template(text)


def dtmf_pcap(digit: str) -> Path:
    """sipp's capture of one RFC 4733 key press."""
    return SIPP_SHARE / f"dtmf_2833_{_DTMF_NAMES.get(digit, digit)}.pcap"


@dataclass(frozen=True, kw_only=True)
class CallerScript:
    """What one simulated caller does after the PBX answers."""

    did: str
    caller: str = "48221234567"  # may contain sipp keywords, e.g. "4822[call_number]"
    wait_ms: int = 0  # listening before pressing a key or starting to talk
    press: str | None = None  # a DTMF key to press after ``wait_ms``
    talk_ms: int = 3000  # talking before hanging up
    far_end_hangs_up: bool = False  # wait for the PBX to hang up instead of hanging up
    audio_pcap: Path = AUDIO_PCAP  # what the caller says (e.g. a tone, tones.py)


def caller_scenario(script: CallerScript) -> str:
    """The caller's sipp scenario XML."""
    dtmf = ""
    if script.press is not None:
        dtmf = _template("dtmf.part.xml").substitute(
            digit=script.press, dtmf_pcap=dtmf_pcap(script.press)
        )
    if script.far_end_hangs_up:
        ending = _template("far-hangup.part.xml").substitute()
    else:
        ending = _template("hangup.part.xml").substitute(
            audio_pcap=script.audio_pcap, talk_ms=script.talk_ms, caller=script.caller
        )
    return _template("caller.xml").substitute(
        caller=script.caller, before_dtmf_ms=script.wait_ms, dtmf=dtmf, ending=ending
    )


Presses = Sequence[tuple[str, int]]  # (key, milliseconds after the previous step)


def agent_presses(
    press: str | None, press_after_ms: int, presses: Presses
) -> tuple[tuple[str, int], ...]:
    """The keys a phone presses after answering, in order: ``press`` (the single key of the
    older callers) first, then ``presses``; ``SandboxError`` for a key sipp cannot send."""
    first = ((press, press_after_ms),) if press is not None else ()
    steps = (*first, *presses)
    for key, delay in steps:
        if key not in _DTMF_KEYS:
            raise SandboxError(f"The phone cannot press {key!r}: one DTMF key 0-9, * or # is.")
        if delay < 0:
            raise SandboxError(f"The delay before pressing {key!r} is negative ({delay} ms).")
    return steps


@dataclass(frozen=True, kw_only=True)
class Transfer:
    """A staff phone passing the caller on to ``target`` (an extension of the phones'
    context, e.g. another phone's endpoint) ``after_ms`` after answering: ``blind`` (REFER
    straight away) or ``attended`` (call ``target`` first, talk ``consult_ms``, then REFER
    with Replaces)."""

    kind: Literal["blind", "attended"]
    target: str
    after_ms: int = 2000
    consult_ms: int = 2000


def transfer_part(transfer: Transfer) -> str:
    """The end of a staff phone's scenario that transfers the caller and leaves."""
    if not _TARGET.fullmatch(transfer.target):
        raise SandboxError(f"The transfer target {transfer.target!r} is not a plain extension.")
    if transfer.after_ms < 0 or transfer.consult_ms < 0:
        raise SandboxError("A transfer's delays must not be negative.")
    leave = "".join(
        _template("agent-leave.part.xml").substitute(label=f"leave{n}")
        for n in range(1 if transfer.kind == "blind" else 2)
    )
    return _template(f"agent-{transfer.kind}.part.xml").substitute(
        target=transfer.target,
        after_ms=transfer.after_ms,
        consult_ms=transfer.consult_ms,
        leave=leave,
    )


def agent_scenario(
    ring_ms: int = 300,
    *,
    press: str | None = None,
    press_after_ms: int = 0,
    presses: Presses = (),
    audio_pcap: Path = AUDIO_PCAP,
    transfer: Transfer | None = None,
) -> str:
    """The staff phone's scenario: ring for ``ring_ms``, answer, talk until the far end hangs up
    (or, with ``transfer``, until the phone has passed the caller on).

    With ``press``, the phone presses that key ``press_after_ms`` after answering; with
    ``presses``, each (key, delay) presses the key ``delay`` ms after the previous step (the
    answer, or the previous press and the 400 ms it lasts); then it talks. Each press is
    logged (``pressed <key> <sec> <usec>``).
    """
    parts = [
        f'  <pause milliseconds="{delay}"/>\n'
        + _template("dtmf.part.xml").substitute(digit=key, dtmf_pcap=dtmf_pcap(key))
        for key, delay in agent_presses(press, press_after_ms, presses)
    ]
    ending = (
        _template("agent-bye.part.xml").substitute()
        if transfer is None
        else transfer_part(transfer)
    )
    return _template("agent.xml").substitute(
        ring_ms=ring_ms,
        audio_pcap=audio_pcap,
        before_talk="".join(parts),
        ending=ending,
        # sipp refuses a variable set but never used: only a transferring phone keeps this
        invite_actions="" if transfer is None else _REMEMBER_CALLER,
    )


def require_sipp() -> str:
    """The sipp binary, or ``SandboxError`` if the Debian package is missing."""
    path = shutil.which("sipp")
    if path is None:
        raise SandboxError("sipp is not installed (apt-get install sip-tester).")
    return path


@dataclass(frozen=True)
class CallResult:
    """How one sipp caller run ended; ``log`` holds the scenario's own log lines."""

    returncode: int
    errors: str
    log: str

    @property
    def ok(self) -> bool:
        """Whether every call of the run followed its scenario."""
        return self.returncode == 0


async def place_calls(
    sandbox: SandboxSettings,
    script: CallerScript,
    workdir: Path,
    *,
    calls: int = 1,
    rate: float = 1.0,
    concurrent: int | None = None,
    timeout_seconds: float = 120.0,
    media_port: int = 17000,
    local_port: int | None = None,
    local_host: str | None = None,
) -> CallResult:
    """Place ``calls`` calls from the trunk's address at ``rate`` calls/s and wait for them.

    The PBX knows the trunk by its IP address alone, so several callers may run at once, each
    on its own ``local_port`` and ``media_port``. ``local_host`` places the call from another
    address instead, e.g. a staff phone's for an outbound call.
    """
    scenario = await asyncio.to_thread(_write_scenario, workdir, "caller", caller_scenario(script))
    command = caller_command(
        sandbox,
        scenario,
        script.did,
        host=local_host or sandbox.trunk_host,
        local_port=local_port or sandbox.trunk_port,
        media_port=media_port,
        calls=calls,
        rate=rate,
        concurrent=concurrent or calls,
        timeout_seconds=timeout_seconds,
    )
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=workdir,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), timeout_seconds + 10)
    except asyncio.CancelledError:
        process.kill()  # a cancelled caller must not keep holding the trunk's port
        await process.wait()
        raise
    except TimeoutError:
        process.kill()
        await process.wait()
        raise SandboxError(
            f"sipp did not finish {calls} call(s) in {timeout_seconds:.0f} s."
        ) from None
    errors = await asyncio.to_thread(_read_logs, workdir, "caller_*_errors.log")
    logs = await asyncio.to_thread(_read_logs, workdir, "caller_*_logs.log")
    return CallResult(
        returncode=process.returncode or 0,
        errors=(stderr.decode(errors="replace") + errors).strip(),
        log=logs,
    )


def caller_command(
    sandbox: SandboxSettings,
    scenario: Path,
    did: str,
    *,
    host: str,
    local_port: int,
    media_port: int,
    calls: int,
    rate: float,
    concurrent: int,
    timeout_seconds: float,
) -> list[str]:
    """The sipp command line of a caller from ``host`` running ``scenario`` to ``did``."""
    return [
        require_sipp(),
        f"{sandbox.sip_host}:{sandbox.sip_port}",
        "-sf", str(scenario),
        "-s", did,
        "-i", host,
        "-p", str(local_port),
        "-mi", host,
        "-mp", str(media_port),
        "-m", str(calls),
        "-r", f"{rate:g}",
        "-rp", "1000",
        "-l", str(concurrent),
        "-timeout", f"{int(timeout_seconds)}s",
        "-nostdin", "-trace_err", "-trace_logs",
    ]  # fmt: skip


def _write_scenario(workdir: Path, role: str, text: str) -> Path:
    """Write a fresh scenario and drop the logs of an earlier run, which sipp would append to."""
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in workdir.glob(f"{role}_*_*.log"):
        stale.unlink()
    scenario = workdir / f"{role}.xml"
    scenario.write_text(text, encoding="utf-8")
    return scenario


def _read_logs(workdir: Path, pattern: str) -> str:
    return "".join(p.read_text(errors="replace") for p in sorted(workdir.glob(pattern)))


def is_phone_process(argv: list[str], phone: Phone) -> bool:
    """Whether a command line is sipp listening as ``phone`` (its address and port)."""
    pairs = set(itertools.pairwise(argv))
    return (
        bool(argv)
        and Path(argv[0]).name == "sipp"
        and ("-i", phone.host) in pairs
        and ("-p", str(phone.port)) in pairs
    )


def kill_leftover_phone(pid_file: Path, phone: Phone, proc: Path = Path("/proc")) -> bool:
    """Kill the phone an earlier, killed holder of the instance left running; True if one was.

    Only a sipp listening on this phone's own address and port is killed: the address
    belongs to the instance, and the caller holds the instance's lock.
    """
    try:
        pid = int(pid_file.read_text().strip())
        argv = (proc / str(pid) / "cmdline").read_bytes().decode(errors="replace").split("\0")
    except (OSError, ValueError):
        return False
    if not is_phone_process(argv, phone):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while (proc / str(pid)).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return True


class SippAgent:
    """A staff phone answering every call it gets, until stopped."""

    def __init__(
        self,
        phone: Phone,
        workdir: Path,
        *,
        ring_ms: int = 300,
        media_port: int = 16000,
        pid_file: Path | None = None,
        press: str | None = None,
        press_after_ms: int = 0,
        presses: Presses = (),
        audio_pcap: Path = AUDIO_PCAP,
        transfer: Transfer | None = None,
    ) -> None:
        self.phone = phone
        self.transfer = transfer  # passes every caller on instead of talking to the end
        self.audio_pcap = audio_pcap  # what the agent says once it has answered
        self.workdir = workdir
        self.ring_ms = ring_ms
        self.press = press  # a key the agent presses in every call, ``press_after_ms`` in
        self.press_after_ms = press_after_ms
        # then these keys, each (key, ms after the previous press ended)
        self.presses = agent_presses(None, 0, presses)
        self.media_port = media_port
        self.pid_file = pid_file  # lets the next holder of the instance stop a leftover
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start listening on the phone's own loopback address."""
        if self.pid_file is not None:
            kill_leftover_phone(self.pid_file, self.phone)
        text = agent_scenario(
            self.ring_ms,
            press=self.press,
            press_after_ms=self.press_after_ms,
            presses=self.presses,
            audio_pcap=self.audio_pcap,
            transfer=self.transfer,
        )
        scenario = _write_scenario(self.workdir, "agent", text)
        command = [
            require_sipp(),
            "-sf", str(scenario),
            "-i", self.phone.host,
            "-p", str(self.phone.port),
            "-mi", self.phone.host,
            "-mp", str(self.media_port),
            # -aa: sipp answers NOTIFY (a transfer's progress), INFO, OPTIONS and UPDATE
            "-aa", "-nostdin", "-trace_logs", "-trace_err",
        ]  # fmt: skip
        self._process = subprocess.Popen(
            command,
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        if self.pid_file is not None:
            self.pid_file.parent.mkdir(parents=True, exist_ok=True)
            self.pid_file.write_text(str(self._process.pid), encoding="utf-8")

    def exit_status(self) -> int | None:
        """sipp's exit status if it was started and has exited (reaping it), else None."""
        if self._process is None:
            return None
        return self._process.poll()

    def invites(self) -> list[str]:
        """The agent's log lines, one per INVITE received: ``invite sip:<caller> <sec> <usec>``."""
        return [
            line
            for path in self.workdir.glob("agent_*_logs.log")
            for line in path.read_text(errors="replace").splitlines()
            if line.startswith("invite ")
        ]

    def log_lines(self, event: str) -> list[str]:
        """The agent's log lines of one kind (``invite``, ``bye``, ``pressed``), oldest first:
        ``<event> <detail> <sec> <usec>``."""
        return [
            line
            for path in sorted(self.workdir.glob("agent_*_logs.log"))
            for line in path.read_text(errors="replace").splitlines()
            if line.startswith(f"{event} ")
        ]

    def stop(self) -> None:
        """Stop answering."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def register_phone(
    server: tuple[str, int],
    phone: Phone,
    *,
    username: str,
    password: str,
    workdir: Path,
    local_port: int,
) -> None:
    """Register ``phone``'s address as the contact of ``username`` (digest authentication),
    from ``local_port`` on the phone's address; ``SandboxError`` unless the PBX says 200."""
    text = _template("register.xml").substitute(user=username, contact=f"{phone.host}:{phone.port}")
    scenario = _write_scenario(workdir, "register", text)
    command = [
        require_sipp(), f"{server[0]}:{server[1]}",
        "-sf", str(scenario),
        "-i", phone.host, "-p", str(local_port),
        "-au", username, "-ap", password,
        "-m", "1", "-timeout", "10s", "-nostdin", "-trace_err",
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, check=False, timeout=20
    )
    if result.returncode != 0:
        errors = _read_logs(workdir, "register_*_errors.log").strip()
        raise SandboxError(f"The phone {username} could not register: {errors or result.stderr}.")
