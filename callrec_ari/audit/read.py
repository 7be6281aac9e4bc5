"""Reading and exporting the audit trail: the dpo only, and every reading is itself audited.

Pages are newest first and keyed by ``seq`` (``before_seq``), so a page never shifts while
new entries arrive. An export streams oldest first and carries each entry's ``prev_hash``
and ``hash``: whoever receives it can recompute the chain with
``callrec_ari.audit.chain.link_hash`` (the JSON Lines ``detail`` is the stored canonical
JSON, parsed; ``canonical_json`` gives back the exact text that was hashed).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor, may_read_audit
from callrec_ari.audit.trail import append
from callrec_ari.db.models import AuditEntry
from callrec_ari.errors import ForbiddenError, InputError

MAX_LIMIT = 1000
BATCH = 1000
ExportFormat = Literal["jsonl", "csv"]
FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv")
EXPORT_FIELDS = (
    "seq",
    "at",
    "actor",
    "action",
    "target",
    "detail",
    "client",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True, kw_only=True)
class EntryView:
    """One audit entry as the dpo reads it."""

    seq: int
    at: datetime
    actor: str
    action: str
    target: str | None
    detail: dict[str, Any]
    client: str | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping, the time in ISO 8601 UTC."""
        return {
            "seq": self.seq,
            "at": _iso(self.at),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "detail": self.detail,
            "client": self.client,
        }


async def read_entries(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
    who: str | None = None,
    action: str | None = None,
    target: str | None = None,
    before_seq: int | None = None,
    limit: int = 50,
    client: str | None = None,
) -> list[EntryView]:
    """One page of entries, newest first, recorded as ``audit.read`` in the same transaction.

    ``since`` is inclusive and ``until`` exclusive; ``action`` matches itself and its
    sub-actions (``hold`` finds ``hold.place``); the next page is ``before_seq`` = the last
    entry's ``seq``. ``ForbiddenError`` unless the actor may read the trail.
    """
    _require_reader(actor, "read")
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"Limit {limit} is out of range (1 to {MAX_LIMIT}).")
    query = _between(select(AuditEntry), since, until)
    if who is not None:
        query = query.where(AuditEntry.actor == who)
    if action is not None:
        query = query.where(
            or_(
                AuditEntry.action == action,
                AuditEntry.action.startswith(f"{action}.", autoescape=True),
            )
        )
    if target is not None:
        query = query.where(AuditEntry.target == target)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    entries = (await session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit))).all()
    views = [_view(entry) for entry in entries]
    asked = {
        "since": since,
        "until": until,
        "actor": who,
        "action": action,
        "target": target,
        "before_seq": before_seq,
    }
    await append(
        session,
        at=now,
        actor=actor.name,
        action="audit.read",
        detail={**_given(asked), "limit": limit, "entries": len(views)},
        client=client,
    )
    return views


async def export_entries(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    out: TextIO,
    fmt: ExportFormat = "jsonl",
    since: datetime | None = None,
    until: datetime | None = None,
    client: str | None = None,
) -> int:
    """Write the entries between ``since`` and ``until`` to ``out``, oldest first; their count.

    Streamed in batches, whatever the trail's length. Recorded as ``audit.export`` (after the
    export, so it is not part of it). ``ForbiddenError`` unless the actor may read the trail.
    """
    _require_reader(actor, "export")
    if fmt not in FORMATS:
        raise InputError(f"Export format {fmt!r} is unknown (use {' or '.join(FORMATS)}).")
    columns = [getattr(AuditEntry, name) for name in EXPORT_FIELDS]
    query = _between(select(*columns), since, until).order_by(AuditEntry.seq)
    writer = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writerow(EXPORT_FIELDS)
    count = 0
    stream = await session.stream(query.execution_options(yield_per=BATCH))
    # A batch at a time: iterating rows one by one costs a greenlet switch per row.
    async for batch in stream.partitions():
        for row in batch:
            record = dict(zip(EXPORT_FIELDS, row, strict=True))
            record["at"] = _iso(record["at"])
            if writer is not None:
                writer.writerow(record[name] for name in EXPORT_FIELDS)
            else:
                # Parsed for readers; canonical_json(detail) is the text that was hashed.
                record["detail"] = _decoded(record["detail"])
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    await append(
        session,
        at=now,
        actor=actor.name,
        action="audit.export",
        detail={**_given({"since": since, "until": until}), "format": fmt, "entries": count},
        client=client,
    )
    return count


def _require_reader(actor: Actor, verb: str) -> None:
    if not may_read_audit(actor):
        raise ForbiddenError(
            f"{actor.described} may not {verb} the audit trail: it is for the dpo only."
        )


def _between(query: Select[Any], since: datetime | None, until: datetime | None) -> Select[Any]:
    for moment in (since, until):
        if moment is not None and moment.tzinfo is None:
            raise InputError(f"Time {moment.isoformat()} has no timezone.")
    if since is not None and until is not None and until <= since:
        raise InputError(f"Until {_iso(until)} is not after since {_iso(since)}.")
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    return query


def _view(entry: AuditEntry) -> EntryView:
    return EntryView(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        target=entry.target,
        detail=_decoded(entry.detail),
        client=entry.client,
    )


def _decoded(detail: str) -> dict[str, Any]:
    """The stored detail as a mapping; text that is not a JSON object (it was tampered with,
    which ``callrec audit verify`` reports) is still shown rather than failing the page."""
    try:
        value = json.loads(detail)
    except ValueError:
        return {"unreadable": detail}
    return value if isinstance(value, dict) else {"unreadable": detail}


def _given(values: Mapping[str, Any]) -> dict[str, Any]:
    """The filters actually given, JSON-ready, for the audit entry recording the reading."""
    return {
        key: _iso(value) if isinstance(value, datetime) else value
        for key, value in values.items()
        if value is not None
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
