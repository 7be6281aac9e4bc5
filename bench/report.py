"""The benchmark's results as a table for a terminal and as JSON for the README."""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.runner import CallPath, RunResult
from bench.stats import Distribution

_PERCENTILES = ("p50", "p90", "p99", "max")


@dataclasses.dataclass(kw_only=True)
class SearchResult:
    """A path's rate steps, and the highest rate that passed (filled in as steps run)."""

    path: CallPath
    p99_limit_ms: float
    steps: list[RunResult] = dataclasses.field(default_factory=list)
    sustained_cps: float | None = None

    def passed(self, step: RunResult) -> bool:
        """Whether a step counts as sustained: every call fine and p99 within the limit."""
        return step.ok and step.setup_ms is not None and step.setup_ms.p99 <= self.p99_limit_ms


_METRICS = {
    "setup_ms": "setup delay",
    "answer_ms": "answer delay",
    "total_ms": "total delay",
}


def compare(
    baseline: RunResult, service: RunResult, metric: str = "setup_ms"
) -> dict[str, dict[str, float | None]]:
    """Per percentile of a delay: the extra ms of callrec and the ratio callrec/baseline."""
    result: dict[str, dict[str, float | None]] = {}
    base_dist: Distribution | None = getattr(baseline, metric)
    our_dist: Distribution | None = getattr(service, metric)
    if base_dist is None or our_dist is None:
        return result
    for name in _PERCENTILES:
        base, ours = getattr(base_dist, name), getattr(our_dist, name)
        result[name] = {
            "baseline_ms": base,
            "service_ms": ours,
            "extra_ms": ours - base,
            "ratio": ours / base if base > 0 else None,
        }
    return result


def sustained_ratio(search: Sequence[SearchResult]) -> float | None:
    """callrec's sustained rate over the baseline's in one search; None if the baseline
    sustained no rate (callrec sustaining none is a ratio of 0)."""
    rates = {result.path: result.sustained_cps for result in search}
    baseline = rates.get(CallPath.BASELINE)
    if not baseline:
        return None
    return (rates.get(CallPath.SERVICE) or 0.0) / baseline


def median_sustained(searches: Sequence[Sequence[SearchResult]], path: CallPath) -> float | None:
    """The median of the rates ``path`` sustained over repeated searches (the lower middle
    one of an even count: a rate that was measured), or None if it sustained none."""
    rates = [
        result.sustained_cps or 0.0
        for search in searches
        for result in search
        if result.path == path
    ]
    middle = statistics.median_low(rates) if rates else 0.0
    return middle or None


def ratio_summary(searches: Sequence[Sequence[SearchResult]]) -> list[str]:
    """One line per search (each path's sustained rate and CPU per call there, the ratio),
    then the median ratio when there were several."""
    lines: list[str] = []
    ratios: list[float] = []
    for number, search in enumerate(searches, start=1):
        ratio = sustained_ratio(search)
        parts = [_sustained(result) for result in search]
        shown = "-" if ratio is None else f"{ratio:.2f}x"
        lines.append(f"  search {number}: {'; '.join(parts)}; ratio {shown}")
        if ratio is not None:
            ratios.append(ratio)
    if len(searches) > 1:
        middle = f"{statistics.median(ratios):.2f}x" if ratios else "-"
        lines.append(
            f"  sustained ratio callrec/baseline over {len(searches)} searches: median {middle}, "
            f"from {min(ratios, default=0):.2f}x to {max(ratios, default=0):.2f}x"
        )
    return lines


def _sustained(result: SearchResult) -> str:
    """A path's sustained rate and the CPU per call of its step at that rate."""
    if not result.sustained_cps:
        return f"{result.path} sustains none"
    step = next(
        (s for s in reversed(result.steps) if s.rate == result.sustained_cps and result.passed(s)),
        None,
    )
    cpu = (
        ""
        if step is None
        else (
            f" (CPU per call there: Asterisk {step.cpu_ms_per_call.get('asterisk', 0.0):.1f} ms, "
            f"callrec {step.cpu_ms_per_call.get('callrec', 0.0):.1f} ms)"
        )
    )
    return f"{result.path} sustains {result.sustained_cps:g} calls/s{cpu}"


def table(
    meta: Mapping[str, Any],
    runs: Mapping[CallPath, RunResult],
    searches: Sequence[Sequence[SearchResult]] = (),
) -> str:
    """A readable report: set-up, the side-by-side numbers, and the rate searches if any."""
    base, ours = runs[CallPath.BASELINE], runs[CallPath.SERVICE]
    lines = [
        f"callrec call-setup benchmark: {meta['calls']} calls per path at {meta['rate']:g} "
        f"calls/s; prompt {meta['prompt_seconds']:.2f} s ({meta['prompt']}), "
        f"callers talk {meta['talk_ms'] / 1000:g} s after a {meta['hold_ms'] / 1000:g} s hold",
        f"machine: {meta['cpu_cores']} CPU cores shared by sipp (caller and agent), Asterisk and "
        f"callrec; load average {meta['loadavg_before'][0]:.2f} before, "
        f"{meta['loadavg_after'][0]:.2f} after",
        f"recordings of both paths on {meta.get('recordings_disk', 'the root file system')}",
        "setup delay  = agent's INVITE - caller's 200 OK - prompt (end of prompt -> phone rings)",
        "answer delay = caller's INVITE -> PBX's 200 OK",
        "total delay  = agent's INVITE - caller's INVITE - prompt (the two above together)",
        "(every instant stamped by sipp with gettimeofday, at the caller or at the agent)",
        "",
        f"{'':34}{'baseline':>12}{'callrec':>12}{'extra':>10}{'ratio':>8}",
    ]
    for metric, label in _METRICS.items():
        for name, row in compare(base, ours, metric).items():
            ratio = f"{row['ratio']:.1f}x" if row["ratio"] is not None else "-"
            lines.append(
                f"{label + ' ' + name + ' (ms)':34}{row['baseline_ms']:12.1f}"
                f"{row['service_ms']:12.1f}{row['extra_ms']:+10.1f}{ratio:>8}"
            )
    lines += [
        _row("calls placed", base, ours, lambda r: r.placed),
        _row(
            "sipp successful / failed", base, ours, lambda r: f"{r.sipp_successful}/{r.sipp_failed}"
        ),
        _row("sipp exit status", base, ours, lambda r: r.sipp_returncode),
        _row("reached the agent", base, ours, lambda r: r.connected),
        _row("recorded", base, ours, lambda r: r.recorded),
        _row("achieved rate (calls/s)", base, ours, lambda r: f"{r.achieved_cps:.2f}"),
        _row("Asterisk CPU per call (ms)", base, ours, _cpu("asterisk")),
        _row("callrec CPU per call (ms)", base, ours, _cpu("callrec")),
        "recorded: callrec rows with consent=given and recording_status=complete; "
        "baseline: non-empty WAVs",
        f"callrec rows by consent/recording_status: {ours.outcomes}",
    ]
    for number, search in enumerate(searches, start=1):
        limit = search[0].p99_limit_ms
        which = f" {number} of {len(searches)}" if len(searches) > 1 else ""
        lines += [
            "",
            f"rate search{which}: each path steps up until a call is lost, fails or goes "
            f"unrecorded, or setup p99 > {limit:g} ms",
            f"  {'path':10}{'offered':>9}{'calls':>7}{'setup p50':>11}{'setup p99':>11}"
            f"{'achieved':>10}  verdict",
        ]
        for result in search:
            lines += [_step(step, result) for step in result.steps]
    if searches:
        lines += ["", "sustained rates:", *ratio_summary(searches)]
    return "\n".join(lines)


def write_json(
    path: Path,
    meta: Mapping[str, Any],
    runs: Mapping[CallPath, RunResult],
    searches: Sequence[Sequence[SearchResult]] = (),
    overload: Any = None,
) -> None:
    """Every number of the run, for the README (``overload``: a dataclass, if that ran)."""
    data = {
        "meta": dict(meta),
        "runs": {str(p): dataclasses.asdict(r) for p, r in runs.items()},
        "comparison": {
            metric: compare(runs[CallPath.BASELINE], runs[CallPath.SERVICE], metric)
            for metric in _METRICS
        },
        "rate_searches": [[dataclasses.asdict(r) for r in search] for search in searches],
        "sustained_ratios": [sustained_ratio(search) for search in searches],
        "overload": dataclasses.asdict(overload) if overload is not None else None,
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _row(label: str, base: RunResult, ours: RunResult, value: Callable[[RunResult], Any]) -> str:
    return f"{label:34}{value(base)!s:>12}{value(ours)!s:>12}"


def _cpu(process: str) -> Callable[[RunResult], str]:
    return lambda run: f"{run.cpu_ms_per_call.get(process, 0.0):.1f}"


def _step(run: RunResult, search: SearchResult) -> str:
    setup = run.setup_ms
    p50, p99 = (f"{setup.p50:.0f} ms", f"{setup.p99:.0f} ms") if setup else ("-", "-")
    if search.passed(run):
        verdict = "ok"
    elif run.ok:
        verdict = "p99 over the limit"
    else:
        verdict = (
            f"FAIL: {run.placed - run.connected} never reached the agent, "
            f"{run.sipp_failed} failed in sipp, {run.placed - run.recorded} unrecorded "
            f"{run.outcomes}"
        )
    return (
        f"  {run.path:10}{run.rate:>7g}/s{run.placed:>7}{p50:>11}{p99:>11}"
        f"{run.achieved_cps:>8.1f}/s  {verdict}"
    )
