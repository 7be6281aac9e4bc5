"""The overload run: callrec's path at twice the rate it sustains (issue 13 §2).

Reports the share of calls per outcome, the setup delay, and what an auditor would check
afterwards: every WAV on disk belongs to a row that knows it, and every caller who consented
(so was not shed as ``overloaded``) and whom an agent answered has a complete recording.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from bench.runner import Bench, CallPath, RunResult
from bench.service import records
from bench.stats import Distribution
from callrec_ari.records import Consent, RecordingStatus

_MIX_DOTS = 2  # <uniqueid>.wav has two dots (uniqueid a.b); a leg's name has three


@dataclasses.dataclass(frozen=True, kw_only=True)
class OverloadResult:
    """The overload run and the audit of its files and rows."""

    run: RunResult
    baseline: RunResult  # plain dialplan at the same rate: what the PBX alone does there
    shares: dict[str, float]  # consent/recording_status -> share of the run's rows
    wavs_without_row: list[str]  # recordings on disk that no row names
    consented_unrecorded: int  # consent given, answered by an agent, no complete recording

    @property
    def loses_nothing(self) -> bool:
        """Nothing on disk is untracked and no consenting caller went unrecorded."""
        return not self.wavs_without_row and self.consented_unrecorded == 0


def overload_run(
    bench: Bench, *, rate: float, seconds: float, talk_ms: int, recordings: Path
) -> OverloadResult:
    """Place ``rate * seconds`` calls through callrec at ``rate`` calls/s and audit them."""
    calls = max(20, round(rate * seconds))
    baseline = bench.run(CallPath.BASELINE, calls=calls, rate=rate, talk_ms=talk_ms)
    time.sleep(2)  # let the baseline's calls drain out of Asterisk
    run = bench.run(CallPath.SERVICE, calls=calls, rate=rate, talk_ms=talk_ms)
    total = sum(run.outcomes.values()) or 1
    shares = {outcome: count / total for outcome, count in run.outcomes.items()}
    rows = records(bench.service)
    known = {row.recording_path for row in rows if row.recording_path}
    on_disk = {
        str(wav.relative_to(recordings))
        for wav in recordings.rglob("*.wav")
        if wav.name.count(".") == _MIX_DOTS
    }
    # Answered: an agent took the call, so there was a conversation to record.
    unrecorded = sum(
        1
        for row in rows
        if row.consent == Consent.GIVEN
        and row.answered_at is not None
        and row.recording_status != RecordingStatus.COMPLETE
    )
    return OverloadResult(
        run=run,
        baseline=baseline,
        shares=shares,
        wavs_without_row=sorted(on_disk - known),
        consented_unrecorded=unrecorded,
    )


def describe(result: OverloadResult) -> list[str]:
    """The report's lines."""
    lines = [
        "",
        f"overload run: {result.run.rate:g} calls/s (twice what callrec sustains), "
        f"{result.run.placed} calls per path",
        "  answer delay = caller's INVITE -> 200 OK; total = caller's INVITE -> agent's INVITE",
    ]
    for name, run in (("baseline", result.baseline), ("callrec", result.run)):
        answer, total = run.answer_ms, run.total_ms
        lines.append(
            f"  {name:9} answer p50 {_ms(answer, 'p50')}, p99 {_ms(answer, 'p99')}; "
            f"total p99 {_ms(total, 'p99')}; {run.connected} of {run.placed} reached the agent"
        )
    for outcome, share in sorted(result.shares.items(), key=lambda item: -item[1]):
        lines.append(f"  {outcome:32}{share:7.1%}")
    lines += [
        f"  WAVs on disk that no row knows: {len(result.wavs_without_row)}",
        f"  consenting callers an agent answered, left unrecorded: {result.consented_unrecorded}",
    ]
    return lines


def _ms(distribution: Distribution | None, percentile: str) -> str:
    return f"{getattr(distribution, percentile):.0f} ms" if distribution else "-"
