"""Queries on the ``calls`` table, and the one place where rows and ``CallRecord`` meet.

Functions take an ``AsyncSession`` and leave the transaction to the caller.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, case, false, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.agent_legs import AgentLeg
from callrec_ari.audit.withdrawals import audit_withdrawals
from callrec_ari.db.models import Call, CallAgent
from callrec_ari.errors import DatabaseError
from callrec_ari.evidence.facts import evidence_from_json, evidence_to_json
from callrec_ari.records import CallRecord, Consent, Direction, RecordingStatus

_RECORDING = RecordingStatus.RECORDING.value

# The columns a snapshot sets; id and created_at belong to the row, not to the call.
_RECORD_COLUMNS = (
    "linkedid",
    "direction",
    "caller_number",
    "caller_e164",
    "dialled_number",
    "agent",
    "languages",
    "consent",
    "started_at",
    "answered_at",
    "ended_at",
    "recording_path",
    "recording_status",
    "duration_seconds",
    "size_bytes",
    "sha256",
    "retention_policy",
    "delete_after",
    "evidence",
    "withdrawn_at",
    "caller_leg_size_bytes",
    "caller_leg_sha256",
    "agent_leg_size_bytes",
    "agent_leg_sha256",
    "interrupted_by",
)


def record_to_row(record: CallRecord) -> dict[str, Any]:
    """The ``calls`` column values of a snapshot, without id and bookkeeping times."""
    return {
        "uniqueid": record.uniqueid,
        "linkedid": record.linkedid,
        "direction": record.direction.value,
        "caller_number": record.caller_number,
        "caller_e164": record.caller_e164,
        "dialled_number": record.dialled_number,
        "agent": record.agent,
        "languages": ",".join(record.languages),
        "consent": record.consent.value,
        "started_at": record.started_at,
        "answered_at": record.answered_at,
        "ended_at": record.ended_at,
        "recording_path": record.recording_path,
        "recording_status": record.recording_status.value,
        "duration_seconds": record.duration_seconds,
        "size_bytes": record.size_bytes,
        "sha256": record.sha256,
        "retention_policy": record.retention_policy,
        "delete_after": record.delete_after,
        # Compact JSON: one snapshot per step of every call goes through the writer.
        "evidence": json.dumps(evidence_to_json(record.evidence), separators=(",", ":"))
        if record.evidence
        else None,
        "withdrawn_at": record.withdrawn_at,
        "caller_leg_size_bytes": record.caller_leg_size_bytes,
        "caller_leg_sha256": record.caller_leg_sha256,
        "agent_leg_size_bytes": record.agent_leg_size_bytes,
        "agent_leg_sha256": record.agent_leg_sha256,
        "interrupted_by": record.interrupted_by,
    }


def call_to_record(call: Call) -> CallRecord:
    """The snapshot a stored row holds."""
    return CallRecord(
        uniqueid=call.uniqueid,
        linkedid=call.linkedid,
        direction=Direction(call.direction),
        caller_number=call.caller_number,
        caller_e164=call.caller_e164,
        dialled_number=call.dialled_number,
        agent=call.agent,
        languages=tuple(call.languages.split(",")) if call.languages else (),
        consent=Consent(call.consent),
        started_at=call.started_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        recording_path=call.recording_path,
        recording_status=RecordingStatus(call.recording_status),
        duration_seconds=call.duration_seconds,
        size_bytes=call.size_bytes,
        sha256=call.sha256,
        retention_policy=call.retention_policy,
        delete_after=call.delete_after,
        evidence=evidence_from_json(json.loads(call.evidence)) if call.evidence else (),
        withdrawn_at=call.withdrawn_at,
        caller_leg_size_bytes=call.caller_leg_size_bytes,
        caller_leg_sha256=call.caller_leg_sha256,
        agent_leg_size_bytes=call.agent_leg_size_bytes,
        agent_leg_sha256=call.agent_leg_sha256,
        interrupted_by=call.interrupted_by,
    )


async def upsert_call(session: AsyncSession, record: CallRecord) -> None:
    """Store one snapshot under its ``uniqueid``: insert it, or overwrite the call's row."""
    await upsert_calls(session, [record])


async def upsert_calls(
    session: AsyncSession,
    records: Sequence[CallRecord],
    *,
    handled_by: str | None = None,
    node: str | None = None,
) -> None:
    """Store snapshots under their ``uniqueid`` in one statement; one snapshot per call.

    Storing an unchanged snapshot again touches nothing, not even ``updated_at``. A row that
    was purged, erased or rectified is never overwritten: a snapshot replayed from the journal
    must not bring back a deleted number or undo a correction. Nor does a snapshot overwrite
    a row that got further (answered, ended, settled: ``progress``): an instance replaying its
    journal after another took its calls over must not undo what that one stored. Rows are
    stamped ``handled_by`` the writing instance, and ``node`` its PBX node the first time a
    node writes them (a call happens on one node; an instance of another never renames it).
    A snapshot that newly says a recording was
    deleted because the caller withdrew gets its audit entry in the same transaction
    (``audit/withdrawals.py``).
    """
    if not records:
        return
    now = datetime.now(UTC)
    # A recording deleted on withdrawal is audited in this same transaction (nothing to do,
    # and no query, for every other snapshot).
    await audit_withdrawals(session, records, now=now)
    rows = [
        {
            **record_to_row(record),
            "handled_by": handled_by,
            "node": node,
            "created_at": now,
            "updated_at": now,
        }
        for record in records
    ]
    dialect = session.get_bind().dialect.name
    await session.execute(_upsert_statement(dialect), rows)
    with_legs = [record.uniqueid for record in records if record.agent_legs]
    # A purged row keeps no agent (lifecycle/reduce.py): a replayed snapshot brings none back.
    purged = (
        set(
            await session.scalars(
                select(Call.uniqueid).where(
                    Call.uniqueid.in_(with_legs), Call.purged_at.is_not(None)
                )
            )
        )
        if with_legs
        else set()
    )
    legs = [
        {
            "call_uniqueid": record.uniqueid,
            "channel_id": leg.channel_id,
            "agent": leg.agent,
            "joined_at": leg.joined_at,
            "left_at": leg.left_at,
        }
        for record in records
        if record.uniqueid not in purged
        for leg in record.agent_legs
    ]
    if legs:
        await session.execute(_legs_statement(dialect), legs)


@functools.cache
def _legs_statement(dialect: str) -> postgresql.Insert | sqlite.Insert:
    """The upsert of agent legs: a leg is keyed by call and channel and only ever gains its
    end, so a stale snapshot replayed from the journal never reopens a leg that ended."""
    agents = CallAgent.metadata.tables[CallAgent.__tablename__]
    statement = _insert(dialect)(agents)
    return statement.on_conflict_do_update(
        index_elements=[agents.c.call_uniqueid, agents.c.channel_id],
        set_={"left_at": func.coalesce(agents.c.left_at, statement.excluded.left_at)},
        where=agents.c.left_at.is_(None) & statement.excluded.left_at.is_not(None),
    )


def _insert(dialect: str) -> Callable[[Table], postgresql.Insert | sqlite.Insert]:
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise DatabaseError(f"Database type {dialect} is not supported (use SQLite or PostgreSQL).")


async def agent_legs_of(
    session: AsyncSession, uniqueids: Sequence[str]
) -> dict[str, tuple[AgentLeg, ...]]:
    """Each of these calls' agent legs, in the order the agents joined (calls with none are
    left out)."""
    if not uniqueids:
        return {}
    rows = await session.scalars(
        select(CallAgent)
        .where(CallAgent.call_uniqueid.in_(uniqueids))
        .order_by(CallAgent.joined_at, CallAgent.id)
    )
    legs: dict[str, tuple[AgentLeg, ...]] = {}
    for row in rows:
        leg = AgentLeg(
            agent=row.agent,
            channel_id=row.channel_id,
            joined_at=row.joined_at,
            left_at=row.left_at,
        )
        legs[row.call_uniqueid] = (*legs.get(row.call_uniqueid, ()), leg)
    return legs


@functools.cache
def _upsert_statement(dialect: str) -> postgresql.Insert | sqlite.Insert:
    """The upsert, built once per dialect: building and caching it cost more than running it."""
    insert = _insert(dialect)
    # The table, not the mapped class: the ORM's bulk-insert layer costs more than the write.
    calls = Call.metadata.tables[Call.__tablename__]
    statement = insert(calls)
    new = statement.excluded
    table = calls.c
    return statement.on_conflict_do_update(
        index_elements=[table.uniqueid],
        set_={
            **{name: new[name] for name in _RECORD_COLUMNS},
            "handled_by": new.handled_by,
            "node": func.coalesce(table.node, new.node),
            "updated_at": new.updated_at,
        },
        where=and_(
            table.purged_at.is_(None),
            table.rectified_at.is_(None),
            progress(new) >= progress(table),
            or_(
                *(table[name].is_distinct_from(new[name]) for name in _RECORD_COLUMNS),
                table.handled_by.is_distinct_from(new.handled_by),
                and_(table.node.is_(None), new.node.is_not(None)),
            ),
        ),
    )


def progress(row: Any) -> ColumnElement[int]:
    """How far a call's row got: 0 announcing, 1 consent decided, 2 ended, 3 settled (ended
    and its recording measured). Snapshots of one call never go back, so a lower one is stale."""
    return case(
        (and_(row.ended_at.is_not(None), row.recording_status != _RECORDING), 3),
        (row.ended_at.is_not(None), 2),
        (row.consent != Consent.PENDING.value, 1),
        else_=0,
    )


async def find_record(session: AsyncSession, uniqueid: str) -> CallRecord | None:
    """The stored snapshot of one call as the writer keeps it, or None if it was never
    stored (no access check, no error: for the call service and its tests)."""
    call = await session.scalar(select(Call).where(Call.uniqueid == uniqueid))
    return None if call is None else (await _with_legs(session, [call]))[0]


async def latest_calls(session: AsyncSession, limit: int) -> list[CallRecord]:
    """The ``limit`` calls that started last, newest first."""
    calls = await session.scalars(
        select(Call).order_by(Call.started_at.desc(), Call.id.desc()).limit(limit)
    )
    return await _with_legs(session, list(calls))


async def unfinished_calls(
    session: AsyncSession, limit: int, *, handled_by: Sequence[str | None] | None = None
) -> list[CallRecord]:
    """Calls whose stored snapshot is not final (not ended, or recording not settled), newest
    first: after a restart the service follows them again. ``handled_by`` keeps the rows of
    these instances only (None: rows no instance stamped)."""
    where = [
        Call.purged_at.is_(None),
        or_(Call.ended_at.is_(None), Call.recording_status == _RECORDING),
    ]
    if handled_by is not None:
        names = [name for name in handled_by if name is not None]
        owners = [Call.handled_by.in_(names)] if names else []
        if None in handled_by:
            owners.append(Call.handled_by.is_(None))
        where.append(or_(*owners) if owners else false())
    calls = await session.scalars(
        select(Call).where(*where).order_by(Call.started_at.desc()).limit(limit)
    )
    # With their legs: a call followed again after a restart ends its agents' legs itself.
    return await _with_legs(session, list(calls))


async def _with_legs(session: AsyncSession, calls: list[Call]) -> list[CallRecord]:
    """The snapshots of these rows, each with its agent legs (one query for all)."""
    legs = await agent_legs_of(session, [call.uniqueid for call in calls])
    return [
        dataclasses.replace(call_to_record(call), agent_legs=legs.get(call.uniqueid, ()))
        for call in calls
    ]


async def handlers_of(session: AsyncSession, uniqueids: Sequence[str]) -> dict[str, str | None]:
    """Which instance last wrote each of these calls' rows (calls without a row are left out)."""
    if not uniqueids:
        return {}
    rows = await session.execute(
        select(Call.uniqueid, Call.handled_by).where(Call.uniqueid.in_(uniqueids))
    )
    return {row.uniqueid: row.handled_by for row in rows}
