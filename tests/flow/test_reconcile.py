"""Reconciliation after a connection opens: which channels waiting in Stasis are taken up,
and which unfinished rows are adopted."""

from __future__ import annotations

import time
from pathlib import Path

from callrec_ari.ari.fake import FakeAri
from callrec_ari.config import Settings
from callrec_ari.flow.dialplan_paths import DialplanPaths
from callrec_ari.flow.reconcile import Reconciler
from callrec_ari.flow.restarts import AsteriskStarts
from callrec_ari.flow.worker import Adopt, CallWorker, Start
from tests.flow.test_controller import T0
from tests.flow.test_states import connected_record


class Reconciling:
    """A Reconciler over the fake Asterisk, noting every call it hands to the controller."""

    def __init__(self, settings: Settings) -> None:
        self.ari = FakeAri()
        self.calls: dict[str, CallWorker] = {}
        self.spawned: list[tuple[str, Start | Adopt]] = []
        self.reconciler = Reconciler(
            ari_port=self.ari,
            calls=self.calls,
            spawn=lambda channel_id, item: self.spawned.append((channel_id, item)),
            starts=AsteriskStarts(self.ari),
            paths=DialplanPaths(self.ari, lambda: settings, time.monotonic),
            recordings_dir=Path(settings.recording.service_dir),
            clock=lambda: T0,
            unfinished=None,
        )


async def test_only_channels_nobody_handles_are_recovered(settings: Settings):
    """A channel waiting in our Stasis is recovered; one already followed, one in another
    application and one that is gone are left alone."""
    reconciling = Reconciling(settings)
    reconciling.ari.add_channel("1.1")
    reconciling.ari.add_channel("1.2")
    reconciling.ari.add_channel("1.3", app_name="someone-else")
    reconciling.calls["1.2"] = CallWorker("1.2", connection=1)
    recovered = await reconciling.reconciler.recover(["1.1", "1.2", "1.3", "1.4"])
    assert recovered == ["1.1"]
    [(channel_id, item)] = reconciling.spawned
    assert channel_id == "1.1"
    assert isinstance(item, Start)
    assert item.recovered


async def test_a_row_whose_channel_is_gone_is_adopted_as_ended(settings: Settings):
    """An unfinished row whose channel (and recording file) Asterisk no longer has is
    adopted, ended now."""
    reconciling = Reconciling(settings)
    record = connected_record(settings)
    await reconciling.reconciler.adopt([record])
    assert reconciling.spawned == [(record.uniqueid, Adopt(record=record, ended_at=T0))]
