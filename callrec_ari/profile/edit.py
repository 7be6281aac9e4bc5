"""The admin changes the organisation profile at run time: checked, audited, stored.

Each change is checked against the whole resulting configuration (a processing needs a
route for its number) before it is stored, and audited in the same transaction with the
value before and after, so a data-protection officer can show what the notice said when.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from callrec_ari.access import Actor, may_administer
from callrec_ari.audit import trail
from callrec_ari.config import Settings
from callrec_ari.db.models import ProcessingChange, ProfileChange
from callrec_ari.db.put import put_row
from callrec_ari.errors import ForbiddenError, NotFoundError
from callrec_ari.profile.changes import DEFAULT_DID, ProfileChanges, field_value
from callrec_ari.profile.model import Processing
from callrec_ari.profile.stored import processing_json
from callrec_ari.routing.overrides import apply
from callrec_ari.routing.store import stored


def _admin(by: Actor) -> None:
    if not may_administer(by):
        raise ForbiddenError(f"{by.described} may not change the organisation profile.")


async def set_field(
    session: AsyncSession,
    *,
    by: Actor,
    settings: Settings,
    name: str,
    value: str,
    now: datetime,
    client: str | None = None,
) -> Settings:
    """Set one profile field (``controller_name``, ``dpo_contact``, ...); the result."""
    _admin(by)
    value = field_value(name, value)
    policies, routes, profile = await stored(session)
    before = getattr(apply(settings, policies, routes, profile).profile, name)
    changes = ProfileChanges(fields={**profile.fields, name: value}, processing=profile.processing)
    result = apply(settings, policies, routes, changes)
    await trail.append(
        session,
        at=now,
        actor=by.name,
        action="settings.profile",
        target=f"profile:{name}",
        detail={"value": value, "before": before},
        client=client,
    )
    await put_row(session, ProfileChange, name, value=value, changed_at=now, changed_by=by.name)
    return result


async def set_processing(
    session: AsyncSession,
    *,
    by: Actor,
    settings: Settings,
    did: str,
    processing: Processing,
    now: datetime,
    client: str | None = None,
) -> Settings:
    """Set what is done with a dialled number's recordings (``*``: the default); the result."""
    _admin(by)
    policies, routes, profile = await stored(session)
    current = apply(settings, policies, routes, profile)
    before = _processing_of(current, did)
    changes = ProfileChanges(
        fields=profile.fields, processing={**profile.processing, did: processing}
    )
    result = apply(settings, policies, routes, changes)
    await trail.append(
        session,
        at=now,
        actor=by.name,
        action="settings.processing",
        target=f"processing:{did}",
        detail={**processing_json(processing), "before": before},
        client=client,
    )
    values = processing_json(processing)
    await put_row(
        session,
        ProcessingChange,
        did,
        **{**values, "purposes": ",".join(values["purposes"])},
        changed_at=now,
        changed_by=by.name,
    )
    return result


async def remove_processing(
    session: AsyncSession,
    *,
    by: Actor,
    settings: Settings,
    did: str,
    now: datetime,
    client: str | None = None,
) -> Settings:
    """Drop the admin's processing of ``did``: the config file's applies again."""
    _admin(by)
    policies, routes, profile = await stored(session)
    if did not in profile.processing:
        raise NotFoundError(f"No processing set here for {did[:70]!r}; the config file's applies.")
    remaining = {key: value for key, value in profile.processing.items() if key != did}
    result = apply(
        settings, policies, routes, ProfileChanges(fields=profile.fields, processing=remaining)
    )
    await trail.append(
        session,
        at=now,
        actor=by.name,
        action="settings.processing.remove",
        target=f"processing:{did}",
        detail={"before": processing_json(profile.processing[did])},
        client=client,
    )
    await session.execute(delete(ProcessingChange).where(ProcessingChange.did == did))
    return result


def _processing_of(settings: Settings, did: str) -> dict[str, object] | None:
    if did == DEFAULT_DID:
        return processing_json(settings.profile.processing)
    route = settings.routes.get(did)
    return None if route is None else processing_json(settings.processing_for(route))
