"""Dates and moments typed by people, with one meaning on the command line and on the web.

The rule, everywhere (``--until 2026-11-30`` as ``?until=2026-11-30``):

* a bare date (``2026-11-30``) as a lower bound (from, since, received) is the start of
  that day in UTC; as an upper bound (to, until, a hold's end) it is the start of the
  *next* day, so the bound, which is always exclusive, takes in the whole of the 30th;
* an ISO 8601 moment with a time (``2026-11-30T14:00``, ``2026-11-30T14:00+01:00``) is
  taken as given, in UTC when it names no zone;
* anything else is an ``InputError`` naming the field.

Pure: no clock, no I/O.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from callrec_ari.errors import InputError

__all__ = ["parse_day_or_moment", "parse_optional"]


def parse_day_or_moment(text: str, *, field: str, end_of_day: bool = False) -> datetime:
    """The moment ``text`` names, timezone-aware; ``end_of_day`` for an upper bound.

    ``field`` names the option or form field in the error (``--until``, ``since``).
    """
    cleaned = text.strip()
    try:
        day = date.fromisoformat(cleaned)
    except ValueError:
        pass
    else:
        start = datetime.combine(day, time(), tzinfo=UTC)
        return start + timedelta(days=1) if end_of_day else start
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise InputError(
            f"{field} {text[:40]!r} is not an ISO 8601 date or time "
            "(e.g. 2026-11-24 or 2026-11-24T10:00:00+01:00)."
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_optional(text: str | None, *, field: str, end_of_day: bool = False) -> datetime | None:
    """As ``parse_day_or_moment``, but a missing or blank value is ``None`` (no bound)."""
    if text is None or not text.strip():
        return None
    return parse_day_or_moment(text, field=field, end_of_day=end_of_day)
