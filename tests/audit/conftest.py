"""Helpers for the audit tests: a clock, entries appended, and the attacker's tools."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.audit.chain import Link, link_hash
from callrec_ari.audit.trail import append
from callrec_ari.db.models import AuditEntry, AuditHead

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

# What someone with DDL rights would run first: migration 0004's guards, gone.
_DROP_GUARDS = {
    "sqlite": [
        "DROP TRIGGER audit_head_forward_only",
        "DROP TRIGGER audit_head_no_delete",
        "DROP TRIGGER audit_log_no_delete",
        "DROP TRIGGER audit_log_no_update",
    ],
    "postgresql": [
        "DROP TRIGGER audit_head_no_truncate ON audit_head",
        "DROP TRIGGER audit_head_forward_only ON audit_head",
        "DROP TRIGGER audit_log_no_truncate ON audit_log",
        "DROP TRIGGER audit_log_append_only ON audit_log",
    ],
}


async def add_entries(
    sessions: async_sessionmaker[AsyncSession],
    count: int,
    *,
    actors: tuple[str, ...] = ("anna", "piotr"),
    actions: tuple[str, ...] = ("login", "play", "hold.place"),
) -> list[AuditEntry]:
    """``count`` entries an hour apart from T0, actors and actions in turn, one transaction."""
    async with sessions() as session, session.begin():
        return [
            await append(
                session,
                at=T0 + timedelta(hours=index),
                actor=actors[index % len(actors)],
                action=actions[index % len(actions)],
                target=f"call-{index}",
                detail={"n": index},
                client="192.0.2.7",
            )
            for index in range(count)
        ]


async def tamper(
    sessions: async_sessionmaker[AsyncSession], *statements: str, **params: object
) -> None:
    """Drop the append-only triggers, then run ``statements`` (with ``params``), as an
    attacker would."""
    async with sessions() as session, session.begin():
        for statement in _DROP_GUARDS[session.get_bind().dialect.name]:
            await session.execute(text(statement))
        for statement in statements:
            await session.execute(text(statement), params)


async def head(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, str]:
    """The head row's seq and hash."""
    async with sessions() as session:
        row = await session.get_one(AuditHead, 1)
        return row.seq, row.hash


async def rewrite_tail(
    sessions: async_sessionmaker[AsyncSession], first: int, *, keep: int | None = None
) -> str:
    """The attack a plain chain cannot show: entries from ``first`` on get another actor
    (``mallory``), every later hash and the head are recomputed, and only entries up to
    ``keep`` (all, if None) are left. Returns the new head hash."""
    async with sessions() as session:
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all()
    last = keep if keep is not None else rows[-1].seq
    changes = []
    prev = next((row.hash for row in rows if row.seq == first - 1), "0" * 64)
    for row in rows:
        if first <= row.seq <= last:
            link = Link(
                seq=row.seq,
                at=row.at,
                actor="mallory",
                action=row.action,
                target=row.target,
                detail=row.detail,
                client=row.client,
                prev_hash=prev,
            )
            prev = link_hash(link)
            changes.append({"seq": row.seq, "prev": link.prev_hash, "hash": prev})
    await tamper(sessions)
    async with sessions() as session, session.begin():
        for change in changes:
            await session.execute(
                text(
                    "UPDATE audit_log SET actor = 'mallory', prev_hash = :prev, hash = :hash "
                    "WHERE seq = :seq"
                ),
                change,
            )
        await session.execute(text("DELETE FROM audit_log WHERE seq > :last"), {"last": last})
        await session.execute(
            text("UPDATE audit_head SET seq = :last, hash = :head"), {"last": last, "head": prev}
        )
    return prev
