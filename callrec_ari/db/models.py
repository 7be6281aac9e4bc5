"""The tables. Enum values are stored as short strings, not native enums, so that adding a
value never needs a migration that PostgreSQL and SQLite would each do differently."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from callrec_ari.db.base import Base, UtcDateTime

# SQLite only auto-numbers a primary key declared exactly INTEGER; PostgreSQL gets 64 bits,
# since every upsert of a known call still draws a number from the sequence.
_ID = BigInteger().with_variant(Integer(), "sqlite")
_NOW = text("CURRENT_TIMESTAMP")


class Call(Base):
    """One call: the latest ``CallRecord`` snapshot stored under its Asterisk ``uniqueid``."""

    __tablename__ = "calls"
    __table_args__ = (
        # Searches are by number, agent or period over about a million rows, newest first.
        Index("ix_calls_caller_number_started_at", "caller_number", "started_at"),
        Index("ix_calls_started_at", "started_at"),
        Index("ix_calls_agent_started_at", "agent", "started_at"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    uniqueid: Mapped[str] = mapped_column(String(64), unique=True)
    linkedid: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(16))
    caller_number: Mapped[str | None] = mapped_column(String(64))
    dialled_number: Mapped[str] = mapped_column(String(64))
    agent: Mapped[str | None] = mapped_column(String(128))
    languages: Mapped[str] = mapped_column(String(128))  # comma-separated, in order
    consent: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    recording_path: Mapped[str | None] = mapped_column(String(1024))
    recording_status: Mapped[str] = mapped_column(String(16))
    duration_seconds: Mapped[float | None] = mapped_column(Float())
    size_bytes: Mapped[int | None] = mapped_column(BigInteger())
    sha256: Mapped[str | None] = mapped_column(String(64))
    retention_policy: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=_NOW)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=_NOW)
