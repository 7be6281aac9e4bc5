"""The admin's routes and policies in the database: checked, audited, cached on disk."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from callrec_ari.access import Actor, Role
from callrec_ari.db.models import AuditEntry
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError
from callrec_ari.profile.changes import ProfileChanges
from callrec_ari.routing import store
from callrec_ari.routing.overrides import route_change
from tests.flow.conftest import example_settings

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ADMIN = Actor.of("ada", Role.ADMIN)


@pytest.fixture
def settings(tmp_path: Path):
    return example_settings(tmp_path)


def romanian(did="5552000", retention="days-7"):
    return route_change(
        did, languages=["ro"], prompt="announcement", retention=retention, on_decline="connect"
    )


async def test_changes_are_stored_applied_and_audited(session_factory, settings):
    """A policy and a route set by the admin are what `effective` returns afterwards."""
    async with session_factory() as db, db.begin():
        await store.set_policy(db, by=ADMIN, settings=settings, name="days-7", days=10, now=NOW)
        await store.set_route(db, by=ADMIN, settings=settings, change=romanian(), now=NOW)
    async with session_factory() as db:
        result = await store.effective(db, settings)
        entries = list(await db.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    assert result.retention["days-7"].days == 10
    assert result.route_for("5552000").languages == ("ro",)
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("ada", "settings.policy", "policy:days-7"),
        ("ada", "settings.route", "route:5552000"),
    ]
    assert json.loads(entries[0].detail) == {"days": 10, "before": 7}


async def test_setting_again_replaces_and_removing_brings_the_config_back(
    session_factory, settings
):
    """One stored route per number; removed, the config file's route applies again."""
    async with session_factory() as db, db.begin():
        await store.set_route(db, by=ADMIN, settings=settings, change=romanian(), now=NOW)
        await store.set_route(
            db, by=ADMIN, settings=settings, change=romanian(retention="months-3"), now=NOW
        )
    async with session_factory() as db:
        assert (await store.effective(db, settings)).route_for("5552000").retention == "months-3"
    async with session_factory() as db, db.begin():
        await store.remove_route(db, by=ADMIN, settings=settings, did="5552000", now=NOW)
    async with session_factory() as db:
        assert (await store.effective(db, settings)) == settings
    async with session_factory() as db, db.begin():
        with pytest.raises(NotFoundError):
            await store.remove_route(db, by=ADMIN, settings=settings, did="5552000", now=NOW)


async def test_only_the_admin_changes_and_bad_changes_store_nothing(session_factory, settings):
    """A supervisor is refused; a route to a missing policy leaves no row and no entry."""
    async with session_factory() as db, db.begin():
        with pytest.raises(ForbiddenError):
            await store.set_policy(
                db,
                by=Actor.of("sue", Role.SUPERVISOR),
                settings=settings,
                name="x",
                days=1,
                now=NOW,
            )
    async with session_factory() as db:
        with pytest.raises(InputError, match="forever"):
            async with db.begin():
                await store.set_route(
                    db, by=ADMIN, settings=settings, change=romanian(retention="forever"), now=NOW
                )
    async with session_factory() as db:
        assert await store.stored(db) == ([], [], ProfileChanges())
        assert list(await db.scalars(select(AuditEntry))) == []


def test_the_disk_copy_round_trips_and_a_damaged_one_is_named(tmp_path: Path):
    """What the service saved is what it reads at the next start; damage is one sentence."""
    path = tmp_path / "journal" / "routes.json"
    assert store.load_cache(path) == ([], [], ProfileChanges())
    changes = ([store.policy("year", 365)], [romanian()], ProfileChanges())
    store.save_cache(path, changes)
    assert store.load_cache(path) == changes
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"routes\.json"):
        store.load_cache(path)
