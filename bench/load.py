"""One sipp load run: ``calls`` calls at ``rate`` calls/s from one trunk address.

Unlike ``callrec_ari.sandbox.sipp.place_calls`` (one call or a few, for tests) this keeps what a
benchmark needs: sipp's own success and failure counters (``-trace_stat``) and, per caller, when
the INVITE left and when the PBX's 200 OK arrived. The second is the sandbox scenario's own
"answered" log line; the first is one ``gettimeofday`` added in front of the INVITE, because
sipp's response-time statistics tick in steps of about 4 ms.
"""

from __future__ import annotations

import csv
import io
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from callrec_ari.sandbox.asterisk import SandboxSettings
from callrec_ari.sandbox.sipp import CallerScript, caller_command, caller_scenario


@dataclass(frozen=True, kw_only=True)
class LoadResult:
    """What sipp saw of one run."""

    returncode: int
    successful: int
    failed: int
    invited: dict[str, float]  # caller number -> epoch seconds its INVITE was sent
    answered: dict[str, float]  # caller number -> epoch seconds the PBX's 200 OK arrived
    wall_seconds: float
    errors: str


def run_load(
    sandbox: SandboxSettings,
    script: CallerScript,
    workdir: Path,
    *,
    host: str,
    calls: int,
    rate: float,
    media_port: int,
    timeout_seconds: float,
) -> LoadResult:
    """Run sipp as the outside caller from ``host`` until every call ended or timed out."""
    workdir.mkdir(parents=True, exist_ok=True)
    scenario = workdir / "caller.xml"
    scenario.write_text(stamped_scenario(script), encoding="utf-8")
    command = [
        *caller_command(
            sandbox,
            scenario,
            script.did,
            host=host,
            local_port=sandbox.trunk_port,
            media_port=media_port,
            calls=calls,
            rate=rate,
            concurrent=calls,
            timeout_seconds=timeout_seconds,
        ),
        "-trace_stat", "-stf", str(workdir / "stat.csv"), "-fd", "1",
    ]  # fmt: skip
    started = time.monotonic()
    try:
        process = subprocess.run(
            command,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=timeout_seconds + 30,
            check=False,
            # A scheduling group of its own, as every other program of the run has: the
            # callers stand for the outside world and must not share the PBX side's CPU share.
            start_new_session=True,
        )
    except subprocess.TimeoutExpired:
        returncode, stderr = -1, "sipp did not exit in time and was killed"
    else:
        returncode, stderr = process.returncode, process.stderr.decode(errors="replace")
    wall = time.monotonic() - started
    successful, failed = _counters(workdir / "stat.csv")
    logs = _read(workdir, "caller_*_logs.log")
    return LoadResult(
        returncode=returncode,
        successful=successful,
        failed=failed,
        invited=parse_stamps(logs, "invited"),
        answered=parse_stamps(logs, "answered"),
        wall_seconds=wall,
        errors=(stderr + _read(workdir, "caller_*_errors.log")).strip(),
    )


def stamped_scenario(script: CallerScript) -> str:
    """The sandbox's caller scenario, also logging ``invited <caller> <sec> <usec>``."""
    text = caller_scenario(script)
    first_send = text.index("<send")
    answered = text.index('<log message="answered ')
    if not first_send < answered:
        raise RuntimeError("The caller scenario changed: no INVITE before the 'answered' log.")
    stamp = '<nop><action><gettimeofday assign_to="i_sec,i_usec"/></action></nop>\n  '
    log = f'<log message="invited {script.caller} [$i_sec] [$i_usec]"/>\n      '
    return text[:first_send] + stamp + text[first_send:answered] + log + text[answered:]


def parse_stamps(text: str, verb: str) -> dict[str, float]:
    """``<verb> <caller> <sec> <usec>`` log lines as caller -> epoch seconds (first line wins).

    The agent logs the From URI (``invite sip:4801 ...``); the ``sip:`` is dropped.
    """
    stamps: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 4 or parts[0] != verb:
            continue
        caller = parts[1].removeprefix("sip:")
        stamps.setdefault(caller, float(parts[2]) + float(parts[3]) / 1e6)
    return stamps


def _counters(stat_file: Path) -> tuple[int, int]:
    """sipp's cumulative successful and failed call counters from the last statistics row."""
    if not stat_file.is_file():
        return 0, 0
    rows = list(csv.DictReader(io.StringIO(stat_file.read_text(errors="replace")), delimiter=";"))
    if not rows:
        return 0, 0
    last = rows[-1]
    return int(last["SuccessfulCall(C)"]), int(last["FailedCall(C)"])


def _read(workdir: Path, pattern: str) -> str:
    return "".join(p.read_text(errors="replace") for p in sorted(workdir.glob(pattern)))
