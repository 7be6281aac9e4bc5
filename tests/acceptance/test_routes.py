"""A route the admin changes at run time is what the next real caller hears."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from callrec_ari.access import Actor, Role
from callrec_ari.db.session import create_engine, create_session_factory
from callrec_ari.records import Consent
from callrec_ari.routing import store as routing
from callrec_ari.routing.overrides import route_change
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.sipp import CallerScript, SippAgent
from tests.acceptance.conftest import Service, asterisk_log, sandbox_settings, until
from tests.acceptance.test_consent import played_prompts

pytestmark = pytest.mark.asterisk


async def test_a_route_changed_by_the_admin_is_heard_by_the_next_caller(
    asterisk: AsteriskSandbox, agent: SippAgent, tmp_path: Path
):
    """The Polish line switched to Romanian while the service runs: the next caller hears
    the Romanian announcement, and the row says so, with the new line's retention."""
    settings = sandbox_settings(asterisk, tmp_path, service={"settings_refresh_seconds": 0.5})
    service = Service(settings, asterisk, tmp_path)
    await service.start()
    try:
        engine = create_engine(settings.database.url)
        try:
            async with create_session_factory(engine)() as db, db.begin():
                await routing.set_route(
                    db,
                    by=Actor.of("ada", Role.ADMIN),
                    settings=settings,
                    change=route_change(
                        "5551000",
                        languages=["ro"],
                        prompt="announcement",
                        retention="months-3",
                        on_decline="connect",
                    ),
                    now=datetime.now(UTC),
                )
        finally:
            await engine.dispose()
        # The copy on disk is written once new calls are routed by the change.
        cache = settings.database.journal_dir / "routes.json"
        await until(lambda: cache.exists() and '"ro"' in cache.read_text(), within=30)
        script = CallerScript(
            did="5551000", caller="48223000077", wait_ms=service.listen_ms("5554000"), talk_ms=1500
        )
        result = await service.call(script)
        assert result.ok, result.errors
        [row] = await service.settled()
    finally:
        await service.stop()
    assert row.languages == ("ro",)
    assert row.retention_policy == "months-3"
    assert row.consent == Consent.GIVEN
    heard = list(played_prompts(asterisk_log(asterisk)).values())
    assert [("announcement", "ro"), ("decline-hint", "ro")] in heard
