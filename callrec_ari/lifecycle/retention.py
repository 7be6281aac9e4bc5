"""Retention rules: pure functions on dates and policies, no I/O."""

from __future__ import annotations

from datetime import datetime, timedelta

from callrec_ari.config import RetentionPolicy


def delete_after(started_at: datetime, policy: RetentionPolicy) -> datetime:
    """When a call started at ``started_at`` under ``policy`` is due for deletion."""
    return started_at + timedelta(days=policy.days)
