"""The retention report's rules, on facts given directly (no database, an injected now)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from callrec_ari.config import LifecycleSettings, RetentionPolicy
from callrec_ari.lifecycle.report import (
    Facts,
    HeldCase,
    PolicyRows,
    RestrictedCall,
    build_report,
    default_grace,
    report_json,
)

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
POLICIES = {
    "days-7": RetentionPolicy(name="days-7", days=7),
    "months-6": RetentionPolicy(name="months-6", days=183),
}


def facts(**changes: object) -> Facts:
    """Facts of a clean system at ``NOW``; ``changes`` override fields."""
    values: dict[str, object] = {
        "now": NOW,
        "grace": timedelta(hours=2),
        "overdue_calls": 0,
        "oldest_overdue_date": None,
        "overdue_erasures": 0,
        "unknown_policies": {},
        "policies": [],
        "retention": POLICIES,
        "holds": [],
        "restricted": [],
        "restricted_total": 0,
    } | changes
    return Facts(**values)  # type: ignore[arg-type]


def hold(hold_id: int, *, placed_days_ago: float, ends_at: datetime | None = None) -> HeldCase:
    """A hold in force placed ``placed_days_ago`` days before ``NOW``."""
    return HeldCase(
        hold_id=hold_id,
        case_reference=f"CASE-{hold_id}",
        reason="litigation",
        placed_at=NOW - timedelta(days=placed_days_ago),
        ends_at=ends_at,
        calls=3,
    )


def test_a_clean_system_exits_zero_and_lists_every_configured_policy():
    """Nothing overdue: exit status 0, no problem, each configured policy shown even when it
    keeps no call."""
    report = build_report(facts())
    assert report.exit_status == 0
    assert report.problems == []
    assert [(line.name, line.days, line.kept) for line in report.policies] == [
        ("days-7", 7, 0),
        ("months-6", 183, 0),
    ]


def test_overdue_calls_make_the_exit_status_one_and_are_named_in_one_sentence():
    """One call kept past its date is a problem: exit status 1 and a sentence saying how many
    and since when."""
    report = build_report(
        facts(overdue_calls=2, oldest_overdue_date=datetime(2027, 5, 30, 8, 0, tzinfo=UTC))
    )
    assert report.exit_status == 1
    assert report.problems == [
        "2 calls kept past their deletion date, the oldest due since 2027-05-30 08:00 UTC: "
        "check that the purge runs (/healthz, callrec purge)."
    ]


def test_overdue_erasures_and_unknown_policies_are_problems_too():
    """An erasure not done within the grace and calls no policy can date are overdue too."""
    report = build_report(facts(overdue_erasures=1, unknown_policies={"years-10": 4}))
    assert report.exit_status == 1
    assert report.problems == [
        "1 call still not erased although erasure was asked for more than 2 hours ago.",
        "4 calls with retention policy 'years-10', which the configuration does not know: "
        "they are never purged.",
    ]


def test_the_oldest_kept_call_per_policy_has_its_age_in_days():
    """Per policy: how many calls are kept and how old the oldest is; a policy name found on
    rows but not configured is shown without days."""
    report = build_report(
        facts(
            policies=[
                PolicyRows(name="days-7", kept=10, oldest_started_at=NOW - timedelta(days=6.5)),
                PolicyRows(name="legacy", kept=1, oldest_started_at=NOW - timedelta(days=900)),
            ]
        )
    )
    lines = {line.name: line for line in report.policies}
    assert (lines["days-7"].kept, lines["days-7"].oldest_age_days) == (10, 6)
    assert lines["months-6"].oldest_age_days is None
    assert (lines["legacy"].days, lines["legacy"].oldest_age_days) == (None, 900)


def test_a_hold_without_an_end_date_is_stale_after_ninety_days():
    """Holds with no end date placed more than 90 days ago are flagged for review; one with
    an end date, or younger, is not. Stale holds alone do not fail the report."""
    report = build_report(
        facts(
            holds=[
                hold(1, placed_days_ago=89.9),
                hold(2, placed_days_ago=90),
                hold(3, placed_days_ago=400, ends_at=NOW + timedelta(days=10)),
            ]
        )
    )
    assert [(line.hold.hold_id, line.age_days, line.stale) for line in report.holds] == [
        (3, 400, False),
        (2, 90, True),
        (1, 89, False),
    ]
    assert [line.hold.hold_id for line in report.stale_holds] == [2]
    assert report.exit_status == 0


def test_the_json_form_carries_cases_restrictions_and_the_verdict():
    """The API's and ``--json``'s shape: the verdict, cases with reason and age, restrictions."""
    restricted = RestrictedCall(
        uniqueid="1700.1",
        restricted_at=NOW - timedelta(days=3),
        restricted_by="dpo",
        reason="Art. 18(1)(a)",
    )
    body = report_json(
        build_report(
            facts(
                overdue_calls=1,
                holds=[hold(7, placed_days_ago=120)],
                restricted=[restricted],
                restricted_total=5,
            )
        )
    )
    assert body["overdue"] is True
    assert body["overdue_calls"] == 1
    assert body["holds"][0] | {} == {
        "id": 7,
        "case_reference": "CASE-7",
        "reason": "litigation",
        "placed_at": (NOW - timedelta(days=120)).isoformat(),
        "ends_at": None,
        "calls": 3,
        "age_days": 120,
        "stale": True,
    }
    assert body["stale_holds"] == 1
    assert body["restricted_total"] == 5
    assert body["restricted"][0]["reason"] == "Art. 18(1)(a)"


def test_the_grace_follows_the_purge_rhythm():
    """Two rounds of the service's purge; a day when the service does not purge (cron)."""
    assert default_grace(LifecycleSettings(purge_interval_seconds=3600)) == timedelta(hours=2)
    assert default_grace(LifecycleSettings(purge_interval_seconds=0)) == timedelta(days=1)
