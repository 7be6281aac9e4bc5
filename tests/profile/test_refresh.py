"""The running service picks up the admin's profile changes and keeps them on local disk."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callrec_ari.access import Actor, Role
from callrec_ari.housekeeping import refresh_routes
from callrec_ari.profile import edit
from callrec_ari.profile.changes import NO_CHANGES, processing
from callrec_ari.profile.model import Purpose
from callrec_ari.routing import store
from tests.flow.conftest import example_settings
from tests.test_housekeeping import FlowHolder, RoundsDoneError, rounds

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
ADMIN = Actor.of("ada", Role.ADMIN)


async def test_a_profile_change_reaches_the_call_service_and_its_disk_copy(
    session_factory, tmp_path
):
    """After the next round the flow has the new processing; the cache file brings it back."""
    settings = example_settings(tmp_path)
    training = processing(purposes=["training"], storage_country="SE")
    async with session_factory() as db, db.begin():
        await edit.set_processing(
            db, by=ADMIN, settings=settings, did="5553000", processing=training, now=NOW
        )
        await edit.set_field(
            db, by=ADMIN, settings=settings, name="controller_name", value="Renamed Ltd", now=NOW
        )
    holder = FlowHolder()
    cache = tmp_path / "journal" / "routes.json"
    with pytest.raises(RoundsDoneError):
        await refresh_routes(
            holder,
            settings,
            session_factory,
            cache=cache,
            last=([], [], NO_CHANGES),
            sleep=rounds(3, []),
        )
    [flow] = holder.flows
    live = flow.settings
    assert live.profile.controller_name == "Renamed Ltd"
    assert live.processing_for(live.route_for("5553000")).purposes == (Purpose.TRAINING,)
    _, _, cached = store.load_cache(cache)
    assert cached.fields == {"controller_name": "Renamed Ltd"}
    assert cached.processing["5553000"] == training
