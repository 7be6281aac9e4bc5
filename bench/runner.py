"""Runs load through one path (callrec or the plain-dialplan baseline) and measures it.

Every run uses its own caller-number prefix (``48<run>`` + sipp's call number), so the
caller's "answered" lines, the agent's "invite" lines and the service's rows of one run are
joined by caller number alone, and never mix with an earlier run's.
"""

from __future__ import annotations

import enum
import os
import time
from collections.abc import Callable, Sized
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from bench.load import LoadResult, parse_stamps, run_load
from bench.service import RECORDED, outcomes, records
from bench.stats import Distribution, cpu_seconds, rate_of
from callrec_ari.errors import SandboxError
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.service import ServiceProcess
from callrec_ari.sandbox.sipp import CallerScript, SippAgent

DID = "5559000"  # not listed in [[route]]: callrec's default route
HOLD_MS = 1500  # the caller stays on this long after the prompt before talking
_WAV_HEADER_BYTES = 44
_Sized = TypeVar("_Sized", bound=Sized)


class CallPath(enum.StrEnum):
    """Which way a call goes through the PBX."""

    BASELINE = "baseline"  # trunk-baseline -> [baseline]: Answer, Playback, MixMonitor, Dial
    SERVICE = "service"  # trunk -> Stasis(callrec) -> continue -> MixMonitor, Dial


@dataclass(frozen=True, kw_only=True)
class RunResult:
    """One run of ``placed`` calls at ``rate`` calls/s through ``path``."""

    path: CallPath
    rate: float
    placed: int
    sipp_returncode: int
    sipp_successful: int
    sipp_failed: int
    connected: int  # calls whose INVITE reached the agent
    recorded: int  # callrec: consent given + recording complete; baseline: non-empty WAVs
    outcomes: dict[str, int]  # callrec: rows by "consent/recording_status"; baseline: WAVs
    achieved_cps: float  # connected calls per second, first to last agent INVITE
    setup_ms: Distribution | None  # agent's INVITE - caller's 200 OK - prompt length
    answer_ms: Distribution | None  # caller's INVITE sent -> PBX's 200 OK received
    total_ms: Distribution | None  # agent's INVITE - caller's INVITE - prompt length
    cpu_ms_per_call: dict[str, float] = field(default_factory=dict)
    wall_seconds: float = 0.0
    errors: str = ""

    @property
    def ok(self) -> bool:
        """Every call followed the scenario, reached the agent and was recorded."""
        return (
            self.sipp_returncode == 0
            and self.sipp_failed == 0
            and self.connected == self.placed
            and self.recorded == self.placed
        )


class Bench:
    """The running sandbox, agent and service, and the runs made on them."""

    def __init__(
        self,
        asterisk: AsteriskSandbox,
        agent: SippAgent,
        service: ServiceProcess,
        *,
        workdir: Path,
        prompt_seconds: float,
    ) -> None:
        self.asterisk = asterisk
        self.agent = agent
        self.service = service
        self.workdir = workdir
        self.prompt_seconds = prompt_seconds
        self.runs = 0

    def run(self, path: CallPath, *, calls: int, rate: float, talk_ms: int) -> RunResult:
        """Place ``calls`` calls through ``path``, wait until they are settled, measure them."""
        self.runs += 1
        prefix = f"48{self.runs:03d}"
        # Whatever an earlier run left for the kernel to write back is written now, not
        # during this run, where it would count against the wrong path.
        os.sync()
        cpu_before = self._cpu()
        wavs_before = self._baseline_wavs()
        load = self._load(path, prefix, calls=calls, rate=rate, talk_ms=talk_ms)
        invites = self._invites(prefix, len(load.answered))
        if path is CallPath.BASELINE:
            wavs = _wait_for(lambda: self._baseline_wavs() - wavs_before, len(invites))
            ended = {"wav": len(wavs)}
            count = len(wavs)
        else:
            try:
                self.service.wait_idle()
                busy = False
            except SandboxError:
                busy = True
            ended = outcomes(records(self.service), prefix)
            if busy:
                ended["service still busy after 120 s"] = 1
            count = ended.get(RECORDED, 0)
        cpu = {
            name: (spent - cpu_before[name]) * 1000 / calls for name, spent in self._cpu().items()
        }
        prompt_ms = self.prompt_seconds * 1000
        answered = [(load.invited[c], t) for c, t in load.answered.items() if c in load.invited]
        joined = [
            (load.invited[c], t, invites[c])
            for c, t in load.answered.items()
            if c in invites and c in load.invited
        ]
        return RunResult(
            path=path,
            rate=rate,
            placed=calls,
            sipp_returncode=load.returncode,
            sipp_successful=load.successful,
            sipp_failed=load.failed,
            connected=len(joined),
            recorded=count,
            outcomes=ended,
            achieved_cps=rate_of([agent for _, _, agent in joined]),
            setup_ms=Distribution.of([(agent - ok) * 1000 - prompt_ms for _, ok, agent in joined]),
            answer_ms=Distribution.of([(ok - sent) * 1000 for sent, ok in answered]),
            total_ms=Distribution.of(
                [(agent - sent) * 1000 - prompt_ms for sent, _, agent in joined]
            ),
            cpu_ms_per_call=cpu,
            wall_seconds=load.wall_seconds,
            errors=load.errors[-2000:] if load.returncode else "",
        )

    def _load(
        self, path: CallPath, prefix: str, *, calls: int, rate: float, talk_ms: int
    ) -> LoadResult:
        """Run the caller side with sipp from the path's trunk address."""
        sandbox = self.asterisk.settings
        stay_ms = round(self.prompt_seconds * 1000) + HOLD_MS + talk_ms
        # The caller sends audio from the moment it is answered, as phones do; a silent caller
        # would hold the baseline's Answer() for 500 ms waiting for media (ARI's answer does not).
        script = CallerScript(did=DID, caller=f"{prefix}[call_number]", wait_ms=0, talk_ms=stay_ms)
        baseline = path is CallPath.BASELINE
        return run_load(
            sandbox,
            script,
            self.workdir / f"run-{self.runs:03d}-{path}",
            host=sandbox.baseline_trunk_host if baseline else sandbox.trunk_host,
            calls=calls,
            rate=rate,
            media_port=17200 if baseline else 17100,
            timeout_seconds=calls / rate + stay_ms / 1000 + 60,
        )

    def _invites(self, prefix: str, expected: int) -> dict[str, float]:
        """The agent's INVITE times of this run's callers (waiting briefly for its log)."""

        def mine() -> dict[str, float]:
            stamps = parse_stamps("\n".join(self.agent.invites()), "invite")
            return {c: t for c, t in stamps.items() if c.startswith(prefix)}

        return _wait_for(mine, expected)

    def _baseline_wavs(self) -> set[str]:
        folder = self.asterisk.baseline_recordings_dir
        # One call's mix; its legs (<uniqueid>.caller.wav, .agent.wav) are not calls.
        return {
            wav.name
            for wav in folder.glob("*.wav")
            if wav.name.count(".") == 2 and wav.stat().st_size > _WAV_HEADER_BYTES
        }

    def _cpu(self) -> dict[str, float]:
        pid_file = self.asterisk.host_instance / "run" / "asterisk.pid"
        asterisk_pid = int(pid_file.read_text().strip()) if pid_file.is_file() else None
        service_pid = self.service.process.pid if self.service.process else None
        return {"asterisk": cpu_seconds(asterisk_pid), "callrec": cpu_seconds(service_pid)}


def _wait_for(probe: Callable[[], _Sized], expected: int, within: float = 10.0) -> _Sized:
    """Poll ``probe`` until it holds ``expected`` items or ``within`` s passed; return the last."""
    deadline = time.monotonic() + within
    value = probe()
    while len(value) < expected and time.monotonic() < deadline:
        time.sleep(0.2)
        value = probe()
    return value
