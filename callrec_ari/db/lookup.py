"""One-off reads for command-line tools, each with its own short-lived engine."""

from __future__ import annotations

from callrec_ari.db.repository import latest_calls
from callrec_ari.db.session import open_sessions
from callrec_ari.records import CallRecord


async def latest(url: str, limit: int) -> list[CallRecord]:
    """The newest ``limit`` call rows of the database at ``url``."""
    async with open_sessions(url) as sessions, sessions() as session:
        return await latest_calls(session, limit)
