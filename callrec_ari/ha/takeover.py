"""The lease rounds of one instance among several, and taking over a dead peer's calls.

Every ``renew_seconds`` the instance renews its own lease (only while its event socket is up:
an instance Asterisk cannot reach must not look alive) and reads its peers' (``lease``).
When a peer's lease stops, the instance takes its calls over:

* calls waiting in the peer's ``Stasis()`` (in the announcement) are let through unrecorded,
  ``interrupted``, as a restarted instance does with its own (``CallController.recover``);
  the peer's application is looked at again every round while the peer stays dead, since a
  hung peer (socket open, loop stuck) may still be given calls by plain ``Stasis()``;
* calls the peer was following in conversation are followed from their rows
  (``handled_by`` the peer) until they end, and their recordings settled
  (``CallController.adopt``); the rows are then ``handled_by`` this instance;
* register lines the peer had taken and not stored are imported by us (``RegisterImporter``).

Calls whose snapshots were still only in the dead peer's journal are stored when it comes
back; ``db.repository.upsert_calls`` keeps its replay from undoing what we stored since.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog

from callrec_ari.ari.port import AriPort, InstancePort
from callrec_ari.config.ha import HaSettings
from callrec_ari.errors import AriError, DatabaseError
from callrec_ari.flow.controller import CallController
from callrec_ari.ha.lease import Leases, lease_variable, new_token
from callrec_ari.records import CallRecord
from callrec_ari.supervision import UNWATCHED, Rounds

log = structlog.get_logger(__name__)

# A peer's unfinished rows by its application's name; DatabaseError if they cannot be read.
Unfinished = Callable[[str], Awaitable[list[CallRecord]]]


class TakeOver:
    """Lets a dead peer's waiting calls through and follows its calls in conversation."""

    def __init__(
        self,
        ari: AriPort,
        controller: CallController,
        unfinished: Unfinished,
        *,
        register: Callable[[str], None] = lambda _peer: None,
    ) -> None:
        self._ari = ari
        self._controller = controller
        self._unfinished = unfinished  # a peer's unfinished rows, by its application name
        self._register = register  # import the register lines the peer had taken, not stored

    async def sweep(self, peer: str) -> list[str]:
        """Let through the calls waiting in ``peer``'s application; return their ids."""
        return await self._controller.recover(await self._ari.app_channel_ids(peer))

    async def __call__(self, peer: str) -> None:
        """Take over everything ``peer`` was handling."""
        started = time.monotonic()
        # Rows first: a call let through below must not be followed twice once it is done.
        records = await self._unfinished(peer)
        recovered = set(await self.sweep(peer))
        adopted = [record for record in records if record.uniqueid not in recovered]
        await self._controller.adopt(adopted)
        self._register(peer)
        log.warning(
            "ha.peer_taken_over",
            peer=peer,
            recovered=len(recovered),
            adopted=len(adopted),
            seconds=round(time.monotonic() - started, 3),
        )


class LeaseKeeper:
    """Renews this instance's lease, watches the peers', takes over the ones that stop."""

    def __init__(
        self,
        port: InstancePort,
        *,
        app: str,
        settings: HaSettings,
        connected: Callable[[], bool],
        take_over: TakeOver,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._port = port
        self._app = app
        self._settings = settings
        self._connected = connected
        self._take_over = take_over
        self._clock = clock
        self._sleep = sleep
        self._token = new_token()
        self._renewals = 0
        self.leases = Leases(settings.peers, lease_seconds=settings.lease_seconds, now=clock())
        self._dead: set[str] = set()

    async def run(self, rounds: Rounds = UNWATCHED) -> None:
        """One round every ``renew_seconds``, until cancelled."""
        failing = False
        while True:
            try:
                await self.round()
            except (AriError, DatabaseError) as exc:
                if not failing:
                    log.warning("ha.round_failed", error=str(exc))
                failing = True
                rounds.failed(f"The leases could not be kept: {exc}")
            else:
                failing = False
                rounds.succeeded()
            await self._sleep(self._settings.renew_seconds)

    async def renew(self) -> None:
        """Write a new value into this instance's lease (also right after each connection)."""
        if not self._connected():
            return
        self._renewals += 1
        await self._port.set_global(lease_variable(self._app), f"{self._token}:{self._renewals}")

    async def round(self) -> None:
        """Renew, read every peer's lease, take over the peers that stopped."""
        await self.renew()
        for peer in self._settings.peers:
            value = await self._port.global_value(lease_variable(peer))
            if self.leases.observe(peer, value, self._clock()):
                self._dead.discard(peer)
                log.info("ha.peer_back", peer=peer)
        if not self._connected():
            return  # without our socket we would follow calls blind; a peer may take ours
        for peer in self._dead:
            await self._take_over.sweep(peer)  # calls a hung peer's Stasis() still accepted
        for peer in self.leases.newly_dead(self._clock()):
            log.warning("ha.peer_dead", peer=peer, lease_seconds=self._settings.lease_seconds)
            try:
                await self._take_over(peer)
            except (AriError, DatabaseError):
                self.leases.retry(peer)  # the next round tries again
                raise
            self._dead.add(peer)
