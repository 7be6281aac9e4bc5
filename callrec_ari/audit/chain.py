"""The hash chain itself, pure: what an entry's hash covers and how it is computed.

Each entry's hash is the SHA-256 of a canonical JSON of its own fields and the previous
entry's hash, so editing, inserting or removing any entry breaks every hash after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64  # the "previous hash" of the first entry


@dataclass(frozen=True, kw_only=True)
class Link:
    """The fields of one entry that its hash covers."""

    seq: int
    at: datetime
    actor: str
    action: str
    target: str | None
    detail: str  # canonical JSON, as stored
    client: str | None
    prev_hash: str


def canonical_json(data: Mapping[str, Any]) -> str:
    """One text for one mapping: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(link: Link) -> str:
    """The SHA-256 (hex) an entry with these fields carries."""
    at = link.at.astimezone(UTC).isoformat(timespec="microseconds")
    text = canonical_json(
        {
            "seq": link.seq,
            "at": at,
            "actor": link.actor,
            "action": link.action,
            "target": link.target,
            "detail": link.detail,
            "client": link.client,
            "prev_hash": link.prev_hash,
        }
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
