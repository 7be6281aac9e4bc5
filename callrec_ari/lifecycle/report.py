"""The retention report: is anything kept past its date? Pure rules on facts read elsewhere.

What a data-protection officer (and cron) checks::

    overdue calls      past their deletion date by more than the grace, not held  -> must be 0
    overdue erasures   erasure asked for longer ago than the grace, not done       -> must be 0
    unknown policies   rows no configured policy can date: never purged            -> must be 0
    per policy         how many calls are kept, and the oldest one's age
    holds in force     case, reason, age; those with no end date older than 90 days flagged
    restricted calls   processing restricted (Art. 18): how many, the oldest first
    needs a decision   failed recordings whose file is kept (undecided.py): the DPO decides

The grace allows for the purge's own rhythm: a call whose date passed a minute ago is not
overdue while the next purge round has yet to run. ``RetentionReport.exit_status`` is 1 when
any of the three "must be 0" lines is not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from callrec_ari.config import LifecycleSettings, RetentionPolicy
from callrec_ari.lifecycle.undecided import Undecided

STALE_HOLD_DAYS = 90  # a hold with no end date this old should be reviewed
_DAILY = timedelta(days=1)


def default_grace(lifecycle: LifecycleSettings) -> timedelta:
    """How late a deletion may be before it counts as overdue: two rounds of the service's
    purge, or a day when the service does not purge (a daily ``callrec purge`` from cron)."""
    if lifecycle.purge_interval_seconds <= 0:
        return _DAILY
    return timedelta(seconds=2 * lifecycle.purge_interval_seconds)


@dataclass(frozen=True, kw_only=True)
class PolicyRows:
    """The kept (not yet purged) calls of one policy name, as the database counts them."""

    name: str
    kept: int
    oldest_started_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class HeldCase:
    """A legal hold in force."""

    hold_id: int
    case_reference: str
    reason: str
    placed_at: datetime
    ends_at: datetime | None
    calls: int


@dataclass(frozen=True, kw_only=True)
class RestrictedCall:
    """A kept call whose processing is restricted."""

    uniqueid: str
    restricted_at: datetime
    restricted_by: str | None
    reason: str | None


@dataclass(frozen=True, kw_only=True)
class Facts:
    """What the report is computed from, read at ``now``."""

    now: datetime
    grace: timedelta
    overdue_calls: int
    oldest_overdue_date: datetime | None
    overdue_erasures: int
    unknown_policies: Mapping[str, int]
    policies: Sequence[PolicyRows]
    retention: Mapping[str, RetentionPolicy]
    holds: Sequence[HeldCase]
    restricted: Sequence[RestrictedCall]
    restricted_total: int
    undecided: Sequence[Undecided] = ()  # failed recordings whose file is kept (undecided.py)
    undecided_total: int = 0


@dataclass(frozen=True, kw_only=True)
class PolicyLine:
    """One policy's line: configured days, calls kept, the oldest kept call's age."""

    name: str
    days: int | None  # None: a policy in months, or a name the configuration does not know
    kept: int
    oldest_started_at: datetime | None
    oldest_age_days: int | None
    months: int | None = None  # a policy in calendar months


@dataclass(frozen=True, kw_only=True)
class HoldLine:
    """A hold in force with its age; ``stale`` if it has no end date and is old."""

    hold: HeldCase
    age_days: int
    stale: bool


@dataclass(frozen=True, kw_only=True)
class RetentionReport:
    """The report, ready to print or render."""

    now: datetime
    grace: timedelta
    overdue_calls: int
    oldest_overdue_date: datetime | None
    overdue_erasures: int
    unknown_policies: Mapping[str, int]
    policies: list[PolicyLine]
    holds: list[HoldLine]
    restricted: Sequence[RestrictedCall]
    restricted_total: int
    problems: list[str] = field(default_factory=list)
    undecided: Sequence[Undecided] = ()
    undecided_total: int = 0

    @property
    def stale_holds(self) -> list[HoldLine]:
        """Holds in force with no end date, placed more than ``STALE_HOLD_DAYS`` ago."""
        return [line for line in self.holds if line.stale]

    @property
    def exit_status(self) -> int:
        """1 if anything is overdue (or can never be purged), 0 otherwise."""
        return 1 if self.problems else 0


def _days(since: datetime, now: datetime) -> int:
    return max((now - since).days, 0)


def _calls(count: int) -> str:
    return "1 call" if count == 1 else f"{count} calls"


def _problems(facts: Facts) -> list[str]:
    problems = []
    if facts.overdue_calls:
        since = facts.oldest_overdue_date
        oldest = f", the oldest due since {since:%Y-%m-%d %H:%M} UTC" if since else ""
        problems.append(
            f"{_calls(facts.overdue_calls)} kept past their deletion date{oldest}: "
            "check that the purge runs (/healthz, callrec purge)."
        )
    if facts.overdue_erasures:
        problems.append(
            f"{_calls(facts.overdue_erasures)} still not erased although erasure was asked "
            f"for more than {_hours(facts.grace)} ago."
        )
    for name, count in sorted(facts.unknown_policies.items()):
        problems.append(
            f"{_calls(count)} with retention policy {name!r}, which the configuration does "
            "not know: they are never purged."
        )
    return problems


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} hour" if hours == 1 else f"{hours:g} hours"


def build_report(facts: Facts) -> RetentionReport:
    """The retention report of ``facts``: ages, stale holds and the problems, in sentences."""
    now = facts.now
    seen = {rows.name: rows for rows in facts.policies}
    names = sorted(set(facts.retention) | set(seen))
    policies = []
    for name in names:
        rows = seen.get(name)
        oldest = rows.oldest_started_at if rows else None
        configured = facts.retention.get(name)
        policies.append(
            PolicyLine(
                name=name,
                days=configured.days if configured else None,
                months=configured.months if configured else None,
                kept=rows.kept if rows else 0,
                oldest_started_at=oldest,
                oldest_age_days=_days(oldest, now) if oldest else None,
            )
        )
    stale_before = now - timedelta(days=STALE_HOLD_DAYS)
    holds = [
        HoldLine(
            hold=hold,
            age_days=_days(hold.placed_at, now),
            stale=hold.ends_at is None and hold.placed_at <= stale_before,
        )
        for hold in sorted(facts.holds, key=lambda hold: (hold.placed_at, hold.hold_id))
    ]
    return RetentionReport(
        now=now,
        grace=facts.grace,
        overdue_calls=facts.overdue_calls,
        oldest_overdue_date=facts.oldest_overdue_date,
        overdue_erasures=facts.overdue_erasures,
        unknown_policies=dict(facts.unknown_policies),
        policies=policies,
        holds=holds,
        restricted=list(facts.restricted),
        restricted_total=facts.restricted_total,
        problems=_problems(facts),
        undecided=list(facts.undecided),
        undecided_total=facts.undecided_total,
    )


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def report_json(report: RetentionReport) -> dict[str, Any]:
    """The report as JSON-ready data (the CLI's ``--json`` and the web API)."""
    return {
        "at": _when(report.now),
        "grace_seconds": report.grace.total_seconds(),
        "overdue": bool(report.problems),
        "problems": report.problems,
        "overdue_calls": report.overdue_calls,
        "oldest_overdue_date": _when(report.oldest_overdue_date),
        "overdue_erasures": report.overdue_erasures,
        "unknown_policies": dict(report.unknown_policies),
        "policies": [
            {
                "name": line.name,
                "days": line.days,
                "months": line.months,
                "kept": line.kept,
                "oldest_started_at": _when(line.oldest_started_at),
                "oldest_age_days": line.oldest_age_days,
            }
            for line in report.policies
        ],
        "holds": [
            {
                "id": line.hold.hold_id,
                "case_reference": line.hold.case_reference,
                "reason": line.hold.reason,
                "placed_at": _when(line.hold.placed_at),
                "ends_at": _when(line.hold.ends_at),
                "calls": line.hold.calls,
                "age_days": line.age_days,
                "stale": line.stale,
            }
            for line in report.holds
        ],
        "stale_holds": len(report.stale_holds),
        "restricted_total": report.restricted_total,
        "restricted": [
            {
                "uniqueid": call.uniqueid,
                "restricted_at": _when(call.restricted_at),
                "restricted_by": call.restricted_by,
                "reason": call.reason,
            }
            for call in report.restricted
        ],
        "needs_decision_total": report.undecided_total,
        "needs_decision": [
            {
                "uniqueid": call.uniqueid,
                "recording_path": call.relative_path,
                "ended_at": _when(call.ended_at),
                "interrupted_by": call.interrupted_by,
                "delete_after": _when(call.delete_after),
            }
            for call in report.undecided
        ],
    }
