"""The service's periodic jobs: reloading the do-not-record list and the admin's routes,
purging expired calls, counting the calls past their date for the metrics, importing the
register of calls connected without the service.

Each tolerates the database being down: a failed round is logged and the next one tries
again. None is ever on the call path. Each reports how its rounds went to ``rounds`` (its
supervisor's status, see ``callrec_ari.supervision``); anything unexpected it raises is left
to the supervisor, which logs it with its traceback, restarts the job and shows it on
``/healthz``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.config import Settings
from callrec_ari.db.session import describe_error
from callrec_ari.errors import CallrecError
from callrec_ari.flow.controller import CallController
from callrec_ari.flow.do_not_record import DoNotRecordList
from callrec_ari.flow.states import ConsentFlow
from callrec_ari.lifecycle.due import count_overdue
from callrec_ari.lifecycle.purge import run_purge
from callrec_ari.prompts.version_store import purge_prompt_audio
from callrec_ari.register.importer import RegisterImporter
from callrec_ari.rights import donotrecord
from callrec_ari.routing import store as routing
from callrec_ari.routing.overrides import apply
from callrec_ari.routing.store import Changes
from callrec_ari.storage.recordings import Offsite
from callrec_ari.supervision import UNWATCHED, Rounds
from callrec_ari.training.expiry import purge_expired_copies

log = structlog.get_logger(__name__)

Sleep = Callable[[float], Awaitable[None]]


PURGE_REST_RATIO = 1.0  # after each batch the service's purge rests as long as it worked


class Pacer:
    """Between two purge batches, rest ``ratio`` times as long as the batch took: the calls
    on the same event loop (and the same CPU) get the rest of the time."""

    def __init__(
        self,
        ratio: float = PURGE_REST_RATIO,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._ratio = ratio
        self._monotonic = monotonic
        self._sleep = sleep
        self._since = monotonic()

    async def __call__(self) -> None:
        """Rest after a batch; the next batch's time counts from the end of the rest."""
        worked = self._monotonic() - self._since
        await self._sleep(worked * self._ratio)
        self._since = self._monotonic()


async def import_register(
    importer: RegisterImporter,
    *,
    interval_seconds: float,
    wake: asyncio.Event,
    rounds: Rounds = UNWATCHED,
) -> None:
    """Import the register now, then every ``interval_seconds`` or when ``wake`` is set (on
    every ARI connection), until cancelled."""
    failing = False
    while True:
        wake.clear()
        try:
            await importer.import_once()
        except OSError as exc:
            if not failing:  # e.g. no permission on the folder: once per outage
                log.error("register.import_failed", file=str(importer.path), error=str(exc))
            failing = True
            rounds.failed(f"The register {importer.path} could not be imported: {exc}.")
        else:
            failing = False
            rounds.succeeded()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval_seconds):
                await wake.wait()


async def refresh_do_not_record(
    numbers: DoNotRecordList,
    sessions: async_sessionmaker[AsyncSession],
    *,
    interval_seconds: float,
    sleep: Sleep = asyncio.sleep,
    rounds: Rounds = UNWATCHED,
) -> None:
    """Reload the list from the database every ``interval_seconds``, until cancelled."""
    failing = False
    while True:
        try:
            async with sessions() as session:
                fresh = await donotrecord.numbers(session)
        except (SQLAlchemyError, OSError) as exc:
            if not failing:  # once per outage, not every few seconds
                log.warning(
                    "do_not_record.refresh_failed", error=describe_error(exc), kept=len(numbers)
                )
            failing = True
            rounds.failed(f"The do-not-record list could not be read: {describe_error(exc)}.")
        else:
            rounds.succeeded()
            if failing:
                log.info("do_not_record.refresh_resumed")
            failing = False
            if numbers.replace(fresh):
                log.info("do_not_record.reloaded", numbers=len(fresh))
                try:
                    await asyncio.to_thread(numbers.save)
                except OSError as exc:
                    log.error("do_not_record.cache_not_saved", error=str(exc))
        await sleep(interval_seconds)


async def refresh_routes(
    controller: CallController,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    *,
    cache: Path,
    last: Changes,
    sleep: Sleep = asyncio.sleep,
    rounds: Rounds = UNWATCHED,
) -> None:
    """Read the admin's routes and policies every ``settings_refresh_seconds``; when they
    change, route new calls by them and keep a copy in ``cache``. Until cancelled."""
    failing = False
    while True:
        await sleep(settings.service.settings_refresh_seconds)
        try:
            async with sessions() as session:
                fresh = await routing.stored(session)
        except (SQLAlchemyError, OSError) as exc:
            if not failing:
                log.warning("routes.refresh_failed", error=describe_error(exc))
            failing = True
            rounds.failed(f"The routes could not be read: {describe_error(exc)}.")
            continue
        failing = False
        rounds.succeeded()
        if fresh == last:
            continue
        try:
            effective = apply(settings, *fresh)
        except CallrecError as exc:
            # The config file changed under the stored routes: keep routing as before.
            log.error("routes.not_applied", error=str(exc))
            continue
        controller.use_flow(ConsentFlow(effective, controller.flow.versions))
        last = fresh
        log.info("routes.reloaded", routes=len(fresh[1]), policies=len(fresh[0]))
        try:
            await asyncio.to_thread(routing.save_cache, cache, fresh)
        except OSError as exc:
            log.error("routes.cache_not_saved", error=str(exc))


async def purge_periodically(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    *,
    clock: Callable[[], datetime],
    sleep: Sleep = asyncio.sleep,
    rounds: Rounds = UNWATCHED,
    purged: Callable[[], None] = lambda: None,
    offsite: Offsite | None = None,
) -> None:
    """Purge expired recordings, then expired training copies, every
    ``lifecycle.purge_interval_seconds``, until cancelled; ``purged`` is called after each
    run that succeeded. ``offsite``: the object store and outbox, with ``kind = "s3"``."""
    interval = settings.lifecycle.purge_interval_seconds
    while True:
        try:
            async with sessions() as session:
                retention = (await routing.effective(session, settings)).retention
            report = await run_purge(
                sessions,
                recordings_dir=settings.recording.service_dir,
                retention=retention,
                now=clock(),
                batch_size=settings.lifecycle.purge_batch_size,
                between_batches=Pacer(),
                offsite=offsite,
            )
            # Old prompt audio is kept while a kept call heard it: checked after the calls.
            async with sessions() as session, session.begin():
                await purge_prompt_audio(session, settings, now=clock())
            await purge_expired_copies(sessions, library=settings.training.dir, now=clock())
        except CallrecError as exc:
            log.warning("purge.failed", error=str(exc))
            rounds.failed(f"The purge failed: {exc}")
        except (SQLAlchemyError, OSError) as exc:
            log.warning("purge.failed", error=describe_error(exc))
            rounds.failed(f"The purge failed: {describe_error(exc)}.")
        else:
            rounds.succeeded()
            purged()
            if report.reduced or report.refused:
                log.info(
                    "purge.done",
                    reduced=report.reduced,
                    files_deleted=report.files_deleted,
                    refused=report.refused,
                    unknown_policy=report.unknown_policy,
                    kept_restricted=report.kept_restricted,
                )
        await sleep(interval)


async def count_overdue_periodically(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    *,
    report: Callable[[int], None],
    clock: Callable[[], datetime],
    wake: asyncio.Event,
    interval_seconds: float,
    rest_seconds: float,
    sleep: Sleep = asyncio.sleep,
    rounds: Rounds = UNWATCHED,
) -> None:
    """Count the calls past their retention date and ``report`` the number: now, then every
    ``interval_seconds`` or when ``wake`` is set (after a purge), never twice within
    ``rest_seconds``, so a scrape never runs the query itself. Until cancelled."""
    failing = False
    while True:
        wake.clear()
        try:
            async with sessions() as session:
                retention = (await routing.effective(session, settings)).retention
                count = await count_overdue(session, retention=retention, now=clock())
        except (SQLAlchemyError, OSError) as exc:
            if not failing:
                log.warning("overdue.count_failed", error=describe_error(exc))
            failing = True
            rounds.failed(f"The calls past their date could not be counted: {describe_error(exc)}.")
        else:
            failing = False
            rounds.succeeded()
            report(count)
        await sleep(rest_seconds)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(interval_seconds - rest_seconds, 0.0)):
                await wake.wait()
