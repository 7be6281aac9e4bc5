"""The admin changes the profile at run time: checked, stored, audited with before and after."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from callrec_ari.access import Actor, Role
from callrec_ari.db.models import AuditEntry
from callrec_ari.errors import ForbiddenError, InputError, NotFoundError
from callrec_ari.profile import edit
from callrec_ari.profile.changes import processing
from callrec_ari.profile.model import PLACEHOLDER_PROFILE, LegalBasis, Purpose
from callrec_ari.routing import store
from callrec_ari.routing.overrides import route_change
from tests.flow.conftest import example_settings

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
ADMIN = Actor.of("ada", Role.ADMIN)


@pytest.fixture
def settings(tmp_path):
    """The example config's settings."""
    return example_settings(tmp_path)


def eu_only(**changes):
    """A processing stored in Finland, for training only."""
    values = {"purposes": ["training"], "storage_country": "fi"} | changes
    return processing(**values)


async def entries(session_factory):
    """The audit trail as (actor, action, target, detail)."""
    async with session_factory() as db:
        rows = await db.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        return [(e.actor, e.action, e.target, json.loads(e.detail)) for e in rows]


async def test_a_field_change_applies_and_is_audited_with_before_and_after(
    session_factory, settings
):
    """The DPO's new address is in effect and the trail keeps both addresses."""
    async with session_factory() as db, db.begin():
        await edit.set_field(
            db, by=ADMIN, settings=settings, name="dpo_contact", value=" dpo@new.example ", now=NOW
        )
    async with session_factory() as db:
        assert (await store.effective(db, settings)).profile.dpo_contact == "dpo@new.example"
    [(actor, action, target, detail)] = await entries(session_factory)
    assert (actor, action, target) == ("ada", "settings.profile", "profile:dpo_contact")
    assert detail == {"value": "dpo@new.example", "before": settings.profile.dpo_contact}


async def test_a_route_s_processing_changes_only_that_route(session_factory, settings):
    """A number's processing is replaced; the others keep theirs; removed, config's is back."""
    async with session_factory() as db, db.begin():
        await edit.set_processing(
            db, by=ADMIN, settings=settings, did="5551000", processing=eu_only(), now=NOW
        )
    async with session_factory() as db:
        result = await store.effective(db, settings)
    changed = result.processing_for(result.route_for("5551000"))
    assert (changed.purposes, changed.storage_country) == ((Purpose.TRAINING,), "FI")
    assert result.processing_for(result.route_for("5552000")).legal_basis == LegalBasis.PUBLIC_TASK
    [(_, action, target, detail)] = await entries(session_factory)
    assert (action, target) == ("settings.processing", "processing:5551000")
    assert detail["purposes"] == ["training"]
    assert detail["before"]["purposes"] == ["service_quality", "evidence", "complaints"]
    async with session_factory() as db, db.begin():
        await edit.remove_processing(db, by=ADMIN, settings=settings, did="5551000", now=NOW)
    async with session_factory() as db:
        assert await store.effective(db, settings) == settings
    async with session_factory() as db, db.begin():
        with pytest.raises(NotFoundError):
            await edit.remove_processing(db, by=ADMIN, settings=settings, did="5551000", now=NOW)


async def test_a_replaced_route_keeps_its_processing(session_factory, settings):
    """The admin's new route for a number keeps the config file's processing of the number."""
    change = route_change(
        "5552000", languages=["fi"], prompt="announcement", retention="days-7", on_decline="connect"
    )
    async with session_factory() as db, db.begin():
        await store.set_route(db, by=ADMIN, settings=settings, change=change, now=NOW)
    async with session_factory() as db:
        result = await store.effective(db, settings)
    assert result.route_for("5552000").languages == ("fi",)
    assert result.processing_for(result.route_for("5552000")).legal_basis == LegalBasis.PUBLIC_TASK


async def test_refused_changes_store_nothing(session_factory, settings):
    """A supervisor, a bad field, and a processing for a number without route: nothing kept."""
    async with session_factory() as db:
        with pytest.raises(ForbiddenError):
            async with db.begin():
                await edit.set_field(
                    db,
                    by=Actor.of("sue", Role.SUPERVISOR),
                    settings=settings,
                    name="controller_name",
                    value="Someone Else",
                    now=NOW,
                )
        with pytest.raises(InputError, match="not a profile field"):
            async with db.begin():
                await edit.set_field(
                    db, by=ADMIN, settings=settings, name="password", value="x", now=NOW
                )
        with pytest.raises(InputError, match="needs a route for 5559999"):
            async with db.begin():
                await edit.set_processing(
                    db, by=ADMIN, settings=settings, did="5559999", processing=eu_only(), now=NOW
                )
    async with session_factory() as db:
        assert await store.effective(db, settings) == settings
    assert await entries(session_factory) == []


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"purposes": []}, "at least one purpose"),
        ({"purposes": ["spying"]}, "'spying' is not a purpose"),
        ({"legal_basis": "whim"}, "'whim' is not a legal basis"),
        ({"storage_country": "Finland"}, "two-letter country code"),
        ({"transfers": "x" * 2001}, "transfers is longer than 2000"),
    ],
)
def test_a_bad_processing_is_named(values, message):
    """Each bad field of a processing is refused with its name."""
    with pytest.raises(InputError, match=message):
        eu_only(**values)


async def test_the_disk_copy_carries_the_profile(session_factory, settings, tmp_path):
    """The service's local copy brings back the profile changes as stored."""
    async with session_factory() as db, db.begin():
        await edit.set_field(
            db, by=ADMIN, settings=settings, name="controller_name", value="Other Ltd", now=NOW
        )
        await edit.set_processing(
            db, by=ADMIN, settings=settings, did="*", processing=eu_only(), now=NOW
        )
        changes = await store.stored(db)
    path = tmp_path / "routes.json"
    store.save_cache(path, changes)
    assert store.load_cache(path) == changes


async def test_a_placeholder_profile_is_filled_in_only_when_complete(session_factory, tmp_path):
    """Without [profile], the admin's fields count only once all are set with a processing."""
    bare = dataclasses.replace(example_settings(tmp_path), profile=PLACEHOLDER_PROFILE)
    values = {
        "controller_name": "Co",
        "controller_address": "Street 1",
        "dpo_contact": "dpo@co.example",
        "notice_url": "https://co.example/notice",
        "supervisory_authority": "The authority",
    }
    async with session_factory() as db, db.begin():
        for name, value in values.items():
            result = await edit.set_field(
                db, by=ADMIN, settings=bare, name=name, value=value, now=NOW
            )
        assert result.profile.placeholder
        result = await edit.set_processing(
            db, by=ADMIN, settings=bare, did="*", processing=eu_only(), now=NOW
        )
    assert not result.profile.placeholder
    assert result.profile.controller_name == "Co"
