"""Helpers for the audit tests: a clock, entries appended, and the attacker's tools."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
