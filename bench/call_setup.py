"""What callrec adds to call set-up, measured beside a plain-dialplan baseline in one run.

Both paths run on one Asterisk 22 sandbox with the same short prompt, the same MixMonitor and
the same agent phone (sipp). The baseline trunk (127.0.0.4) runs Answer, Playback, MixMonitor
and Dial from dialplan; the callrec trunk (127.0.0.2) enters Stasis, where ``callrec run``, a
separate process, answers, plays the prompt and ``continue``s the call to MixMonitor and Dial.

For every call, sipp stamps the PBX's 200 OK at the caller and the INVITE at the agent::

    setup delay = agent INVITE - caller 200 OK - prompt length

i.e. the time from the end of the prompt to the agent's phone ringing. Run as root::

    .venv/bin/python -m bench.call_setup [--calls 200] [--rate 5] [--json out.json]
        [--max-rate [--repeat 3] [--overload]]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.arrivals import BucketWatch, playable_delays, wait_for
from bench.disk import DiskError, journaled
from bench.overload import OverloadResult, describe, overload_run
from bench.prompt import PROMPT_NAME, install_bench_prompt
from bench.report import SearchResult, median_sustained, table, write_json
from bench.runner import HOLD_MS, Bench, CallPath, RunResult
from bench.service import records, sealing_delays, service_config
from bench.stats import Distribution
from callrec_ari import log as logging_setup
from callrec_ari.config import LogFormat, LogSettings
from callrec_ari.records import RecordingStatus
from callrec_ari.sandbox.asterisk import AsteriskSandbox, Phone, SandboxSettings
from callrec_ari.sandbox.service import ServiceProcess
from callrec_ari.sandbox.session import SandboxSession

LANGUAGE = "en"
PATHS = (CallPath.BASELINE, CallPath.SERVICE)

# Its own instance, ports and phone address, so the benchmark can run beside the acceptance
# tests' sandbox (callrec, 5060/8088, phone 127.0.0.3) without either stealing the other's calls.
BENCH_SANDBOX = SandboxSettings(
    name="callrec-bench",
    sip_port=5160,
    ari_port=8188,
    trunk_port=5170,
    phones=(Phone(endpoint="agent100", host="127.0.0.5", port=5162),),
    rtp_start=30000,
    rtp_end=39999,
    baseline_prompt=PROMPT_NAME,
    baseline_language=LANGUAGE,
    baseline_decline_hint=False,  # callrec runs with decline_key = "": no hint either
    withdraw_feature="",  # and no withdrawal key: the record context names the file itself
)


class BrokenBenchmarkError(RuntimeError):
    """A path recorded nothing: the numbers would measure something else than callrec."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="bench.call_setup", description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per path (default 200)")
    parser.add_argument("--rate", type=float, default=5.0, help="calls per second (default 5)")
    parser.add_argument("--talk-ms", type=int, default=2000, help="talk time once connected")
    parser.add_argument("--prompt-ms", type=int, default=1000, help="length of the tone prompt")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured calls per path first")
    parser.add_argument("--json", type=Path, help="also write every number to this file")
    parser.add_argument(
        "--max-rate", action="store_true", help="then step the rate up to find what each sustains"
    )
    parser.add_argument(
        "--search-rates", default="10,15,20,30,40,60", help="rates to step through (calls/s)"
    )
    parser.add_argument(
        "--refine", type=int, default=2, help="bisections between the last rate passed and failed"
    )
    parser.add_argument(
        "--repeat",
        type=_positive_int,
        default=1,
        help="with --max-rate: search this many times in turn and report each sustained ratio "
        "and their median (the machine's speed drifts between searches)",
    )
    parser.add_argument(
        "--overload",
        action="store_true",
        help="with --max-rate: then run callrec at twice the rate it sustains and audit it",
    )
    parser.add_argument(
        "--search-seconds", type=float, default=10.0, help="length of each rate step"
    )
    parser.add_argument(
        "--p99-limit-ms", type=float, default=500.0, help="a step fails above this setup p99"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, sipp)")
    parser.add_argument(
        "--recordings-disk",
        choices=("journaled", "root"),
        default="journaled",
        help="both paths record to a journaled ext4 image (default), or to the machine's root "
        "file system, which on some sandboxes has no journal (bench/disk.py)",
    )
    parser.add_argument(
        "--plain",
        action="store_true",
        help="callrec keeps plain WAVs as the baseline does (the example config encrypts them)",
    )
    parser.add_argument(
        "--s3",
        action="store_true",
        help="callrec uploads its sealed recordings to an S3 store (a SeaweedFS it starts) and "
        "the time from each call's end to its recording in the bucket is reported",
    )
    return parser.parse_args(argv)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return value


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 if every measured call went through and was recorded."""
    args = parse_args(argv)
    if args.s3 and args.plain:
        print("bench.call_setup: --s3 needs encryption (leave out --plain).", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("bench.call_setup needs root (the Asterisk sandbox uses chroot).", file=sys.stderr)
        return 2
    logging_setup.configure(LogSettings(format=LogFormat.CONSOLE, level="warning"))
    workdir = Path(tempfile.mkdtemp(prefix="callrec-bench-"))
    meta = _meta(args)
    status = 1
    try:
        runs, searches, overload = _measure(args, workdir, meta)
        meta["loadavg_after"] = os.getloadavg()
        print(table(meta, runs, searches))
        for key, what in (
            ("sealed_after_call_end_s", "encrypted on disk"),
            ("in_bucket_after_call_end_s", "playable from the bucket (sealed, uploaded)"),
        ):
            delays = meta.get(key)
            if delays:
                print(
                    f"{what} after the call ended: p50 {delays['p50']:.2f} s, "
                    f"p99 {delays['p99']:.2f} s, max {delays['max']:.2f} s "
                    f"({delays['count']} calls)"
                )
        if overload is not None:
            print("\n".join(describe(overload)))
        if args.json:
            write_json(args.json, meta, runs, searches, overload)
        status = _verdict(runs)
    except BrokenBenchmarkError as exc:
        print(f"\nBROKEN BENCHMARK: {exc}", file=sys.stderr)
        status = 3
    finally:
        if args.keep or status != 0:
            print(f"work folder kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return status


def _measure(
    args: argparse.Namespace, workdir: Path, meta: dict[str, Any]
) -> tuple[dict[CallPath, RunResult], list[list[SearchResult]], OverloadResult | None]:
    """Start everything, warm up, measure both paths, optionally search the rate (``--repeat``
    times); stop all."""
    cache = Path(os.environ.get("CALLREC_SANDBOX_CACHE") or "/var/cache/callrec")
    session = SandboxSession(
        cache, settings=BENCH_SANDBOX, workdir=workdir / "sandbox", keep_recordings=False
    )
    disk = contextlib.ExitStack()  # the recordings' file system: unmounted once Asterisk stops
    try:
        asterisk = session.start(
            before_start=lambda prepared: meta.update(
                recordings_disk=_recordings_disk(args, prepared, workdir, disk)
            )
        )
    except BaseException:
        disk.close()
        raise
    stack = contextlib.ExitStack()  # the object store and its watcher, with --s3
    try:
        assert session.agent is not None
        prompts = workdir / "prompts"
        meta["prompt_seconds"] = install_bench_prompt(
            prompts, asterisk.host_sounds_dir, language=LANGUAGE, seconds=args.prompt_ms / 1000
        )
        meta["asterisk"] = asterisk.cli("core show version").strip()
        config = service_config(
            asterisk, workdir, prompts_dir=prompts, prompt=PROMPT_NAME, language=LANGUAGE
        )
        if args.plain:
            config["encryption"] = {"enabled": False}
        meta["encryption"] = config.get("encryption", {}).get("enabled", False)
        watch = _object_store(args, config, workdir, stack)
        with ServiceProcess(config, workdir / "service") as service:
            bench = Bench(
                asterisk,
                session.agent,
                service,
                workdir=workdir / "sipp",
                prompt_seconds=meta["prompt_seconds"],
            )
            for path in PATHS if args.warmup > 0 else ():
                _check_recorded(bench.run(path, calls=args.warmup, rate=5, talk_ms=args.talk_ms))
            runs: dict[CallPath, RunResult] = {}
            for path in PATHS:
                print(f"{path}: {args.calls} calls at {args.rate:g}/s ...", file=sys.stderr)
                runs[path] = _check_recorded(
                    bench.run(path, calls=args.calls, rate=args.rate, talk_ms=args.talk_ms)
                )
            if meta["encryption"]:
                delays = Distribution.of(sealing_delays(service))
                meta["sealed_after_call_end_s"] = None if delays is None else vars(delays)
            if watch is not None:
                meta["in_bucket_after_call_end_s"] = _in_bucket(watch, service)
            searches = [_search(bench, args) for _ in range(args.repeat if args.max_rate else 0)]
            overload = _overload(bench, args, searches, asterisk.recordings_service_dir)
    finally:
        stack.close()
        session.stop()
        disk.close()
    return runs, searches, overload


def _recordings_disk(
    args: argparse.Namespace, asterisk: AsteriskSandbox, workdir: Path, disk: contextlib.ExitStack
) -> str:
    """Put both paths' recordings on a journaled file system (``bench/disk.py``) unless
    ``--recordings-disk root``; what they are on, for the report."""
    root = "the machine's root file system"
    if args.recordings_disk == "root":
        return root
    folders = [asterisk.recordings_service_dir, asterisk.baseline_recordings_dir]
    try:
        return disk.enter_context(journaled(folders, workdir))
    except DiskError as exc:
        print(f"bench.call_setup: {exc} Recording to {root} instead.", file=sys.stderr)
        return f"{root} (no journaled image: {exc})"


def _object_store(
    args: argparse.Namespace, config: dict[str, Any], workdir: Path, stack: contextlib.ExitStack
) -> BucketWatch | None:
    """With ``--s3``: start SeaweedFS, point the service's ``[storage]`` at it, and watch the
    bucket for the recordings' arrival."""
    if not args.s3:
        return None
    from tests.support.seaweedfs import ACCESS_KEY, SECRET_KEY, SeaweedServer  # noqa: PLC0415

    server = stack.enter_context(SeaweedServer())
    bucket = server.create_bucket("callrec-bench")
    config["storage"] = {
        "kind": "s3",
        "location": config["profile"].get("storage_country", "PL"),
        "bucket": bucket,
        "prefix": "bench",
        "endpoint_url": server.endpoint_url,
        "access_key_id": ACCESS_KEY,
        "secret_access_key": SECRET_KEY,
        "addressing_style": "path",
        "outbox_dir": str(workdir / "outbox"),
    }
    watch = BucketWatch(server.client(), bucket, "bench/", interval=0.1)
    watch.start()
    stack.callback(watch.stop)
    return watch


def _in_bucket(watch: BucketWatch, service: ServiceProcess) -> dict[str, float] | None:
    """Per recorded call: seconds from its end to its mix's object in the bucket."""
    ends = {
        str(record.recording_path): record.ended_at
        for record in records(service)
        if record.recording_path is not None and record.recording_status == RecordingStatus.COMPLETE
    }
    wait_for(watch, [path + ".enc" for path in ends], timeout=60)
    delays = Distribution.of(playable_delays(watch, ends))
    return None if delays is None else vars(delays)


def _search(bench: Bench, args: argparse.Namespace) -> list[SearchResult]:
    """Step each path's rate up until a step loses, fails or leaves unrecorded a call, or p99
    setup delay exceeds the limit; then halve the gap between the last rate that passed and
    the first that failed ``--refine`` times. The highest rate that passed is sustained.

    The two paths take turns at each rate (baseline, then callrec), so both meet the machine
    in the same state: run one after the other, the second would inherit the first's
    leftovers (files being written back, a fuller disk) and the ratio would drift with it.
    """
    rates = [float(rate) for rate in args.search_rates.split(",")]
    results = {path: SearchResult(path=path, p99_limit_ms=args.p99_limit_ms) for path in PATHS}
    failed: dict[CallPath, float | None] = dict.fromkeys(PATHS)
    for rate in rates:
        climbing = [path for path in PATHS if failed[path] is None]
        if not climbing:
            break
        for path in climbing:
            if _step_passes(bench, args, results[path], rate):
                results[path].sustained_cps = rate
            else:
                failed[path] = rate
    for _ in range(args.refine):
        for path in PATHS:
            result, low, high = results[path], results[path].sustained_cps or 0.0, failed[path]
            if high is None or high - low < 2:
                continue
            middle = round((low + high) / 2)
            if _step_passes(bench, args, result, middle):
                result.sustained_cps = middle
            else:
                failed[path] = middle
    return [results[path] for path in PATHS]


def _step_passes(bench: Bench, args: argparse.Namespace, result: SearchResult, rate: float) -> bool:
    print(f"{result.path}: rate step {rate:g}/s ...", file=sys.stderr)
    calls = max(20, round(rate * args.search_seconds))
    step = bench.run(result.path, calls=calls, rate=rate, talk_ms=args.talk_ms)
    result.steps.append(step)
    time.sleep(2)  # let the step's calls drain out of Asterisk before the next
    return result.passed(step)


def _overload(
    bench: Bench, args: argparse.Namespace, searches: list[list[SearchResult]], recordings: Path
) -> OverloadResult | None:
    """With ``--overload``: callrec's path at twice the rate the searches found it sustains
    (their median)."""
    if not args.overload or not searches:
        return None
    sustained = median_sustained(searches, CallPath.SERVICE)
    rate = 2 * (sustained or float(args.search_rates.split(",")[0]))
    print(f"service: overload run at {rate:g}/s ...", file=sys.stderr)
    return overload_run(
        bench, rate=rate, seconds=args.search_seconds, talk_ms=args.talk_ms, recordings=recordings
    )


def _check_recorded(run: RunResult) -> RunResult:
    """Refuse to go on when a path recorded none of its calls."""
    if run.recorded == 0:
        raise BrokenBenchmarkError(
            f"the {run.path} path recorded none of its {run.placed} calls "
            f"({run.connected} reached the agent; sipp exit {run.sipp_returncode}). {run.errors}"
        )
    return run


def _verdict(runs: dict[CallPath, RunResult]) -> int:
    """0 if every measured call went through and was recorded, else 1 with a loud message."""
    status = 0
    for run in runs.values():
        if not run.ok:
            print(
                f"\nWARNING: {run.path}: {run.placed} placed, {run.connected} reached the agent, "
                f"{run.recorded} recorded {run.outcomes}, sipp failed {run.sipp_failed} "
                f"(exit {run.sipp_returncode}); its numbers are suspect.\n{run.errors}",
                file=sys.stderr,
            )
            status = 1
    return status


def _meta(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "calls": args.calls,
        "rate": args.rate,
        "talk_ms": args.talk_ms,
        "hold_ms": HOLD_MS,
        "warmup_calls": args.warmup,
        "prompt": f"{args.prompt_ms} ms 440 Hz tone, sound callrec/{PROMPT_NAME}",
        "cpu_cores": os.cpu_count(),
        "loadavg_before": os.getloadavg(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "callrec": "callrec run (separate process), SQLite, JSON logs at level info",
    }


if __name__ == "__main__":
    sys.exit(main())
