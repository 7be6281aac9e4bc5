"""Row ids as people and programs type them: decimal digits that fit the database's column.

Every id column is a signed 64-bit integer (``BIGINT`` on PostgreSQL, ``INTEGER`` on SQLite,
both at most 2**63 - 1). A longer number cannot name a row, and handed to a driver it
overflows; so it is refused as text, before any query.
"""

from __future__ import annotations

MAX_ID = 2**63 - 1


def parse_id(text: str | None) -> int | None:
    """The id ``text`` names (surrounding spaces and a leading ``#`` allowed), or ``None``
    if it is not decimal digits naming a number from 0 to ``MAX_ID``."""
    cleaned = (text or "").strip().removeprefix("#")
    # isdigit() also takes other scripts' digits and superscripts; an id is ASCII.
    if not cleaned or len(cleaned) > len(str(MAX_ID)) or not cleaned.isascii():
        return None
    if not cleaned.isdigit():
        return None
    number = int(cleaned)
    return number if number <= MAX_ID else None


def fits(number: int) -> bool:
    """Whether ``number`` can be an id (0 to ``MAX_ID``)."""
    return 0 <= number <= MAX_ID
