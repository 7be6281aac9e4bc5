"""Reads the facts of the retention report from the database and records that it was read.

The counts share their definitions with the purge (``due``, ``held``), so "overdue" here means
exactly "the purge would have deleted it by now". Reading the report is audited in the same
transaction as the reading: it shows cases and numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import and_, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.audit import trail
from callrec_ari.config import RetentionPolicy
from callrec_ari.db.models import Call, LegalHold, LegalHoldCall
from callrec_ari.lifecycle.due import expired, pending_erasure, unknown_policies
from callrec_ari.lifecycle.held import active_hold, is_held
from callrec_ari.lifecycle.report import (
    Facts,
    HeldCase,
    PolicyRows,
    RestrictedCall,
    RetentionReport,
    build_report,
)
from callrec_ari.lifecycle.undecided import read_undecided

RESTRICTED_LISTED = 100  # the oldest ones are listed; the total is always given


async def read_report(
    sessions: async_sessionmaker[AsyncSession],
    *,
    retention: Mapping[str, RetentionPolicy],
    now: datetime,
    grace: timedelta,
    actor: str,
    client: str | None = None,
) -> RetentionReport:
    """The retention report at ``now``; an audit entry names ``actor`` as its reader."""
    async with sessions() as session, session.begin():
        facts = await _facts(session, retention=retention, now=now, grace=grace)
        report = build_report(facts)
        await trail.append(
            session,
            at=now,
            actor=actor,
            action="retention.report",
            detail={
                "overdue_calls": report.overdue_calls,
                "overdue_erasures": report.overdue_erasures,
                "unknown_policy_calls": sum(report.unknown_policies.values()),
                "holds": len(report.holds),
                "stale_holds": len(report.stale_holds),
                "restricted": report.restricted_total,
                "exit_status": report.exit_status,
            },
            client=client,
        )
    return report


async def _facts(
    session: AsyncSession,
    *,
    retention: Mapping[str, RetentionPolicy],
    now: datetime,
    grace: timedelta,
) -> Facts:
    kept = and_(Call.purged_at.is_(None), not_(is_held(now)))
    overdue_calls, oldest_overdue = (
        await session.execute(
            select(func.count(), func.min(Call.delete_after)).where(
                # A restricted call past its date is kept on purpose (Art. 18), not overdue.
                kept,
                expired(now - grace, retention),
                Call.restricted_at.is_(None),
            )
        )
    ).one()
    overdue_erasures = await session.scalar(
        select(func.count()).where(
            kept, pending_erasure(), Call.erasure_requested_at <= now - grace
        )
    )
    policies = [
        PolicyRows(name=name, kept=count, oldest_started_at=oldest)
        for name, count, oldest in await session.execute(
            select(Call.retention_policy, func.count(), func.min(Call.started_at))
            .where(Call.purged_at.is_(None))
            .group_by(Call.retention_policy)
        )
    ]
    calls = (
        select(func.count())
        .where(LegalHoldCall.hold_id == LegalHold.id)
        .correlate(LegalHold)
        .scalar_subquery()
    )
    holds = [
        HeldCase(
            hold_id=hold.id,
            case_reference=hold.case_reference,
            reason=hold.reason,
            placed_at=hold.placed_at,
            ends_at=hold.ends_at,
            calls=count,
        )
        for hold, count in await session.execute(
            select(LegalHold, calls).where(active_hold(now)).order_by(LegalHold.placed_at)
        )
    ]
    restricted_now = and_(Call.purged_at.is_(None), Call.restricted_at.is_not(None))
    restricted_total = await session.scalar(select(func.count()).where(restricted_now))
    restricted = [
        RestrictedCall(uniqueid=uniqueid, restricted_at=at, restricted_by=by, reason=reason)
        for uniqueid, at, by, reason in await session.execute(
            select(Call.uniqueid, Call.restricted_at, Call.restricted_by, Call.restriction_reason)
            .where(restricted_now)
            .order_by(Call.restricted_at, Call.id)
            .limit(RESTRICTED_LISTED)
        )
        if at is not None
    ]
    undecided, undecided_total = await read_undecided(session)
    return Facts(
        now=now,
        grace=grace,
        overdue_calls=overdue_calls,
        oldest_overdue_date=oldest_overdue,
        overdue_erasures=overdue_erasures or 0,
        unknown_policies=await unknown_policies(session, retention),
        policies=policies,
        retention=retention,
        holds=holds,
        restricted=restricted,
        restricted_total=restricted_total or 0,
        undecided=undecided,
        undecided_total=undecided_total,
    )
