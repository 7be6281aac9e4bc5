"""The benchmark's rate-search report: each search's ratio, their median, and the CPU per call
at the rate each path sustained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.call_setup import parse_args
from bench.report import (
    SearchResult,
    median_sustained,
    ratio_summary,
    sustained_ratio,
    table,
    write_json,
)
from bench.runner import CallPath, RunResult
from bench.stats import Distribution


def _step(path: CallPath, rate: float, *, p99: float, callrec_cpu: float = 10.0) -> RunResult:
    setup = Distribution.of([5.0] * 99 + [p99])
    return RunResult(
        path=path,
        rate=rate,
        placed=20,
        sipp_returncode=0,
        sipp_successful=20,
        sipp_failed=0,
        connected=20,
        recorded=20,
        outcomes={},
        achieved_cps=rate,
        setup_ms=setup,
        answer_ms=setup,
        total_ms=setup,
        cpu_ms_per_call={"asterisk": 40.0, "callrec": callrec_cpu},
    )


def _search(baseline: float, callrec: float | None) -> list[SearchResult]:
    """A search where the baseline passed ``baseline`` and callrec ``callrec`` (None: none)."""
    results = []
    for path, rate in ((CallPath.BASELINE, baseline), (CallPath.SERVICE, callrec)):
        result = SearchResult(path=path, p99_limit_ms=500.0)
        if rate is not None:
            result.steps.append(_step(path, rate, p99=100.0, callrec_cpu=11.5))
            result.sustained_cps = rate
        result.steps.append(_step(path, (rate or 10.0) + 5, p99=900.0))
        results.append(result)
    return results


def test_each_search_has_its_ratio_and_several_have_a_median():
    searches = [_search(40, 35), _search(40, 28), _search(35, 28)]

    assert [sustained_ratio(search) for search in searches] == [0.875, 0.7, 0.8]
    lines = ratio_summary(searches)

    assert lines[0] == (
        "  search 1: baseline sustains 40 calls/s (CPU per call there: Asterisk 40.0 ms, "
        "callrec 11.5 ms); service sustains 35 calls/s (CPU per call there: Asterisk 40.0 ms, "
        "callrec 11.5 ms); ratio 0.88x"
    )
    assert lines[-1] == (
        "  sustained ratio callrec/baseline over 3 searches: median 0.80x, from 0.70x to 0.88x"
    )
    assert median_sustained(searches, CallPath.SERVICE) == 28
    assert median_sustained(searches, CallPath.BASELINE) == 40


def test_a_path_that_sustained_nothing_is_a_ratio_of_zero_or_none():
    assert sustained_ratio(_search(40, None)) == 0.0
    assert "service sustains none" in ratio_summary([_search(40, None)])[0]
    assert median_sustained([_search(40, None)], CallPath.SERVICE) is None
    # A single search has no median line.
    assert len(ratio_summary([_search(40, 30)])) == 1


def test_the_json_holds_every_search_and_its_ratio(tmp_path: Path):
    out = tmp_path / "bench.json"
    runs = {path: _step(path, 5.0, p99=20.0) for path in CallPath}

    write_json(out, {"calls": 1}, runs, [_search(40, 32), _search(40, 28)])

    data = json.loads(out.read_text())
    assert data["sustained_ratios"] == [0.8, 0.7]
    assert [len(search) for search in data["rate_searches"]] == [2, 2]
    assert data["rate_searches"][0][1]["sustained_cps"] == 32


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_repeat_must_be_a_whole_number_of_one_or_more(value: str, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--max-rate", "--repeat", value])
    assert "--repeat" in capsys.readouterr().err


def test_the_table_shows_every_search_then_the_sustained_rates():
    meta = {
        "calls": 20,
        "rate": 5.0,
        "prompt_seconds": 1.0,
        "prompt": "tone",
        "talk_ms": 2000,
        "hold_ms": 1500,
        "cpu_cores": 2,
        "loadavg_before": (0.1, 0.1, 0.1),
        "loadavg_after": (1.0, 1.0, 1.0),
    }
    runs = {path: _step(path, 5.0, p99=20.0) for path in CallPath}

    text = table(meta, runs, [_search(40, 32), _search(35, 28)])

    assert "rate search 1 of 2:" in text
    assert "rate search 2 of 2:" in text
    assert text.index("rate search 2 of 2:") < text.index("sustained rates:")
    assert text.rstrip().endswith("median 0.80x, from 0.80x to 0.80x")
    assert "rate search" not in table(meta, runs)
