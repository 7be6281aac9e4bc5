"""The admin's profile changes as stored in the database and in the local cache file."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.db.models import ProcessingChange, ProfileChange
from callrec_ari.profile.changes import ProfileChanges, field_value, processing
from callrec_ari.profile.model import Processing


async def stored_profile(session: AsyncSession) -> ProfileChanges:
    """The admin's profile fields and processing, as stored."""
    fields = {
        row.name: row.value
        for row in await session.scalars(select(ProfileChange).order_by(ProfileChange.name))
    }
    by_did = {
        row.did: processing_of(row)
        for row in await session.scalars(select(ProcessingChange).order_by(ProcessingChange.did))
    }
    return ProfileChanges(fields=fields, processing=by_did)


def processing_of(row: ProcessingChange) -> Processing:
    """The processing a stored row holds, checked as the admin's form is."""
    return processing(
        purposes=row.purposes.split(","),
        purpose_text=row.purpose_text,
        legal_basis=row.legal_basis,
        recipients=row.recipients,
        storage_country=row.storage_country,
        transfers=row.transfers,
    )


def processing_json(value: Processing) -> dict[str, Any]:
    """A processing as JSON, for the audit trail, the API and the cache file."""
    return {
        "purposes": [purpose.value for purpose in value.purposes],
        "purpose_text": value.purpose_text,
        "legal_basis": value.legal_basis.value,
        "recipients": value.recipients,
        "storage_country": value.storage_country,
        "transfers": value.transfers,
    }


def profile_json(changes: ProfileChanges) -> dict[str, Any]:
    """The profile changes as JSON for the cache file."""
    return {
        "fields": dict(changes.fields),
        "processing": {did: processing_json(p) for did, p in changes.processing.items()},
    }


def profile_from_json(data: Any) -> ProfileChanges:
    """Profile changes read back from the cache file (``{}`` from a file older than them);
    ``InputError``, ``KeyError``, ``TypeError`` or ``ValueError`` if damaged."""
    fields = {
        str(name): field_value(str(name), str(value))
        for name, value in data.get("fields", {}).items()
    }
    by_did = {
        str(did): processing(
            purposes=[str(p) for p in item["purposes"]],
            purpose_text=str(item["purpose_text"]),
            legal_basis=str(item["legal_basis"]),
            recipients=str(item["recipients"]),
            storage_country=str(item["storage_country"]),
            transfers=str(item["transfers"]),
        )
        for did, item in data.get("processing", {}).items()
    }
    return ProfileChanges(fields=fields, processing=by_did)
