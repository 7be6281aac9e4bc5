"""The retention report as the terminal shows it (``callrec retention report``)."""

from __future__ import annotations

from datetime import datetime

from callrec_ari.lifecycle.report import RetentionReport
from callrec_ari.lifecycle.undecided import describe


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.isoformat(timespec="seconds")


def report_lines(report: RetentionReport) -> list[str]:
    """The report, one line per fact; problems are for stderr (``report.problems``)."""
    hours = report.grace.total_seconds() / 3600
    lines = [
        f"retention report at {_when(report.now)} (overdue = more than {hours:g} h past the date)",
        f"overdue calls: {report.overdue_calls}"
        + (f" (oldest due {_when(report.oldest_overdue_date)})" if report.overdue_calls else ""),
        f"overdue erasures: {report.overdue_erasures}",
        f"calls with an unknown policy: {sum(report.unknown_policies.values())}",
        "policies:",
    ]
    for line in report.policies:
        days = (
            f"{line.months} months"
            if line.months is not None
            else "not configured"
            if line.days is None
            else f"{line.days} days"
        )
        oldest = (
            f"oldest {_when(line.oldest_started_at)} ({line.oldest_age_days} days old)"
            if line.oldest_started_at is not None
            else "none kept"
        )
        lines.append(f"  {line.name}  {days}  {line.kept} kept  {oldest}")
    lines.append(f"holds in force: {len(report.holds)} ({len(report.stale_holds)} stale)")
    for held in report.holds:
        hold = held.hold
        until = f"until {_when(hold.ends_at)}" if hold.ends_at else "no end date"
        stale = "  [STALE: no end date, review it]" if held.stale else ""
        lines.append(
            f"  hold {hold.hold_id}  case {hold.case_reference}  {hold.calls} calls  "
            f"{held.age_days} days old  {until}  reason: {hold.reason}{stale}"
        )
    lines.append(f"restricted calls: {report.restricted_total}")
    for call in report.restricted:
        lines.append(
            f"  {call.uniqueid}  since {_when(call.restricted_at)}  by {call.restricted_by or '-'}"
            f"  reason: {call.reason or '-'}"
        )
    if report.restricted_total > len(report.restricted):
        lines.append(f"  ... and {report.restricted_total - len(report.restricted)} more")
    lines.append(f"recordings that need a decision: {report.undecided_total}")
    lines.extend(f"  {describe(call)}" for call in report.undecided)
    if report.undecided_total > len(report.undecided):
        lines.append(f"  ... and {report.undecided_total - len(report.undecided)} more")
    return lines
