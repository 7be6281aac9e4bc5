"""Builds the running service in one place: database writer, ARI client, controller, event stream.

Each long-lived resource is owned by an aiohttp cleanup context that starts it, and on shutdown
stops and awaits it, in reverse order: calls are let go first, then pending rows are flushed.
A small HTTP endpoint, ``GET /healthz``, reports what the service is doing, and ``GET /metrics``
the same and more for Prometheus (``callrec_ari.metrics``). Every background task runs under
one supervisor (``callrec_ari.supervision``): a crash is logged with its traceback, the task
restarts after a growing delay, and ``/healthz`` names it (and is not 200) while it is failing.

With ``[storage] kind = "s3"`` the store and its upload queue are opened before the calls
start and closed after they stop, so the seal task's last hand-overs still reach the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

import aiohttp
import structlog
from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrec_ari.ari.client import AriClient
from callrec_ari.ari.events import EventStream
from callrec_ari.ari.ws_rest import WsRest
from callrec_ari.audit.witnessing import Witnesser, witness_periodically
from callrec_ari.config import Settings
from callrec_ari.config.encryption import with_master_key
from callrec_ari.config.storage import StorageKind
from callrec_ari.db.journal import Journal
from callrec_ari.db.repository import handlers_of, unfinished_calls
from callrec_ari.db.session import create_engine, create_session_factory, describe_error
from callrec_ari.db.writer import CallWriter
from callrec_ari.errors import CallrecError, DatabaseError
from callrec_ari.flow.controller import CallController, utc_now
from callrec_ari.flow.do_not_record import DoNotRecordList
from callrec_ari.flow.overload import Admission
from callrec_ari.flow.states import ConsentFlow
from callrec_ari.ha.claims import Claimer
from callrec_ari.ha.takeover import LeaseKeeper, TakeOver
from callrec_ari.housekeeping import (
    count_overdue_periodically,
    import_register,
    purge_periodically,
    refresh_do_not_record,
    refresh_routes,
)
from callrec_ari.metrics import LoopLag, Metrics
from callrec_ari.profile.changes import NO_CHANGES
from callrec_ari.prompts.version_store import PromptWatcher
from callrec_ari.prompts.versions import PromptVersions
from callrec_ari.recording.finalise import Settled, settle
from callrec_ari.recording.legs import leg_files
from callrec_ari.recording.seal import Pending, Sealer
from callrec_ari.records import CallRecord, Consent, RecordingStatus
from callrec_ari.register.importer import RegisterImporter
from callrec_ari.routing import store as routing
from callrec_ari.routing.overrides import apply
from callrec_ari.routing.store import Changes
from callrec_ari.storage import open_store
from callrec_ari.storage.recordings import Offsite
from callrec_ari.storage.uploads import UploadQueue
from callrec_ari.supervision import Backoff, Duties, Rounds
from callrec_ari.web.security import harden

log = structlog.get_logger(__name__)

SETTINGS = web.AppKey("settings", Settings)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
WRITER = web.AppKey("writer", CallWriter)
DO_NOT_RECORD = web.AppKey("do_not_record", DoNotRecordList)
CONTROLLER = web.AppKey("controller", CallController)
EVENTS = web.AppKey("events", EventStream)
CLAIMER = web.AppKey("claimer", Claimer)
LEASES = web.AppKey("leases", LeaseKeeper)
DUTIES = web.AppKey("duties", Duties)
METRICS = web.AppKey("metrics", Metrics)
ADMISSION = web.AppKey("admission", Admission)
SEALER = web.AppKey("sealer", Sealer)
UPLOADS = web.AppKey("uploads", UploadQueue)

_FLUSH_ON_STOP_SECONDS = 10.0
_SEAL_ON_STOP_SECONDS = 10.0  # then what is left is sealed by the first sweep of the next start
_WRITE_LINGER_SECONDS = 0.2  # rows may wait this long so that many share one transaction
_UNFINISHED_LOOKUP_SECONDS = 5.0
_ADOPT_AT_MOST = 1000  # unfinished calls followed again after a restart, newest first
# The count of calls past their date runs after each purge and on this timer, never more
# often than the rest allows: a COUNT over the calls table is not for every scrape.
_OVERDUE_COUNT_SECONDS = 300.0
_OVERDUE_REST_SECONDS = 30.0


def build_app(settings: Settings, *, backoff: Backoff | None = None) -> web.Application:
    """The service as an aiohttp application; nothing starts until the app does. ``backoff``
    paces the restarts of a crashed background task."""
    app = web.Application()
    # The master key is made (mode 0600) at the first start, if [encryption] names a file.
    app[SETTINGS] = settings = replace(settings, encryption=with_master_key(settings.encryption))
    app[DUTIES] = Duties(backoff=backoff or Backoff())
    app[METRICS] = metrics = Metrics()
    app[ADMISSION] = Admission(settings.overload)
    metrics.readings.duties = app[DUTIES]
    app.cleanup_ctx.append(_loop_lag)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_uploads)  # before the purge, which deletes from the store too
    app.cleanup_ctx.append(_housekeeping)
    app.cleanup_ctx.append(_calls)
    app.router.add_get("/healthz", _health)
    # No sign-in, like /healthz: no label holds a number or a call's id.
    app.router.add_get("/metrics", make_aiohttp_handler(metrics.registry))
    harden(app)  # no Server header on /healthz either (web/security.py)
    return app


async def _loop_lag(app: web.Application) -> AsyncIterator[None]:
    metrics, admission = app[METRICS], app[ADMISSION]

    def observe(seconds: float) -> None:
        metrics.loop_lag(seconds)
        admission.note_loop_lag(seconds)

    lag = LoopLag(observe)
    _supervised(app, "event-loop-lag", lambda _: lag.run())
    yield
    await app[DUTIES].stop("event-loop-lag")


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    journal = Journal(settings.database.journal_dir)
    engine = create_engine(settings.database.url)
    app[SESSIONS] = create_session_factory(engine)
    writer = CallWriter(
        app[SESSIONS],
        backoff_min_seconds=settings.database.retry_min_seconds,
        backoff_max_seconds=settings.database.retry_max_seconds,
        linger_seconds=_WRITE_LINGER_SECONDS,
        journal=journal,
        handled_by=settings.ari.app,
        node=settings.service.node,
    )
    app[WRITER] = writer
    app[METRICS].readings.writer = writer
    # The writer retries database failures itself; the supervisor catches its bugs.
    _supervised(app, "call-writer", lambda _: writer.run())
    yield
    if not await writer.flush(_FLUSH_ON_STOP_SECONDS):
        log.error("database.rows_unsaved_at_stop", pending=writer.pending)
    await app[DUTIES].stop("call-writer")
    journal.close()
    await engine.dispose()


async def _housekeeping(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    numbers = DoNotRecordList(
        settings.numbers_region, settings.database.journal_dir / "do-not-record.json"
    )
    # The last copy first: the database may be down right now.
    await asyncio.to_thread(numbers.load)
    app[DO_NOT_RECORD] = numbers
    # Before any task starts: a witness key open to other users stops start-up, in one sentence.
    witnesser = (
        await asyncio.to_thread(Witnesser.open, settings.audit)
        if settings.audit.witness_interval_seconds > 0
        else None
    )
    refresh = partial(
        refresh_do_not_record,
        numbers,
        app[SESSIONS],
        interval_seconds=settings.consent.do_not_record_refresh_seconds,
    )
    tasks = [_supervised(app, "do-not-record", lambda rounds: refresh(rounds=rounds))]
    purged = asyncio.Event()
    count = partial(
        count_overdue_periodically,
        settings,
        app[SESSIONS],
        report=app[METRICS].readings.overdue_counted,
        clock=utc_now,
        wake=purged,
        interval_seconds=_OVERDUE_COUNT_SECONDS,
        rest_seconds=_OVERDUE_REST_SECONDS,
    )
    tasks.append(_supervised(app, "overdue-count", lambda rounds: count(rounds=rounds)))
    if settings.lifecycle.purge_interval_seconds > 0:
        purge = partial(
            purge_periodically,
            settings,
            app[SESSIONS],
            clock=utc_now,
            purged=purged.set,
            offsite=_offsite(app),
        )
        tasks.append(_supervised(app, "purge", lambda rounds: purge(rounds=rounds)))
        app[METRICS].readings.purge = app[DUTIES].statuses["purge"]
    if witnesser is not None:
        witness = partial(
            witness_periodically,
            witnesser,
            app[SESSIONS],
            interval_seconds=settings.audit.witness_interval_seconds,
            clock=utc_now,
        )
        tasks.append(_supervised(app, "audit-witness", lambda rounds: witness(rounds=rounds)))
    yield
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _uploads(app: web.Application) -> AsyncIterator[None]:
    """With an S3 store: the store and the upload queue that moves sealed files into it."""
    settings = app[SETTINGS]
    storage = settings.storage
    if storage.kind is not StorageKind.S3:
        yield
        return
    # Opening makes no request: a store that is down delays uploads, never the start.
    store = await open_store(storage, settings.recording.service_dir)

    async def still_wanted(key: str) -> None:
        # Deleted (purge, erasure) while it was uploaded: the object must not outlive it. A
        # stat in the local outbox, cheaper than the trip to a worker thread it would take.
        if not queue.path_for(key).exists():
            await store.delete(key)

    queue = UploadQueue(
        store,
        storage.outbox_dir,
        workers=storage.upload_workers,
        retry_min_seconds=storage.retry_min_seconds,
        retry_max_seconds=storage.retry_max_seconds,
        on_stored=still_wanted,
    )
    app[UPLOADS] = queue
    app[METRICS].readings.uploads = queue
    _supervised(app, "uploads", queue.run)
    try:
        yield
    finally:
        await app[DUTIES].stop("uploads")
        await store.close()


def _offsite(app: web.Application) -> Offsite | None:
    """The upload queue's store and outbox, for the deleters; None without object storage."""
    if UPLOADS not in app:
        return None
    queue = app[UPLOADS]
    return Offsite(store=queue.store, outbox=queue.outbox)


def _supervised(
    app: web.Application, name: str, job: Callable[[Rounds], Awaitable[None]]
) -> asyncio.Task[None]:
    """Run ``job`` under the service's supervisor; it is given its status to report rounds."""
    return app[DUTIES].start(name, job)


def _routes_cache(settings: Settings) -> Path:
    return settings.database.journal_dir / "routes.json"


async def _last_routes(settings: Settings) -> tuple[Settings, Changes]:
    """The admin's routes as last saved on local disk (the database may be down now)."""
    try:
        changes = await asyncio.to_thread(routing.load_cache, _routes_cache(settings))
        return apply(settings, *changes), changes
    except CallrecError as exc:
        log.error("routes.cache_unusable", error=str(exc), using="the config file's routes")
        return settings, ([], [], NO_CHANGES)


async def _calls(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    effective, changes = await _last_routes(settings)
    versions = await _prompt_versions(app, effective)
    metrics = app[METRICS]
    rest = WsRest() if settings.ari.rest_over_websocket else None
    async with aiohttp.ClientSession() as session:
        client = AriClient(
            session,
            settings.ari,
            metrics=metrics,
            latency=app[ADMISSION].note_ari_latency,
            websocket=rest,
        )
        controller = CallController(
            ari=client,
            flow=ConsentFlow(effective, versions.versions),
            recordings_dir=settings.recording.service_dir,
            submit=app[WRITER].submit,
            settle=_settle_and_seal(app),
            do_not_record=app[DO_NOT_RECORD].matches,
            unfinished=partial(_unfinished_calls, app),
            metrics=metrics,
            admission=app[ADMISSION],
            follow_agents=settings.dialplan.follow_agents,
        )
        register_wake = asyncio.Event()
        importer = RegisterImporter(
            settings.dialplan.register_file,
            submit=app[WRITER].submit,
            flush=app[WRITER].flush,
            settings=lambda: controller.flow.settings,
            stored=metrics.call_finished,
            instance=settings.ari.app if settings.ha.enabled else None,
        )

        def adopt_register(peer: str) -> None:
            importer.adopt(peer)
            register_wake.set()

        admission = app[ADMISSION]
        claimer = Claimer(
            client,
            controller.on_event,
            accepting=lambda: not admission.shedding(time.monotonic()),
        )
        keeper = LeaseKeeper(
            client,
            app=settings.ari.app,
            settings=settings.ha,
            connected=lambda: events.connected and not events.replaced,
            take_over=TakeOver(
                client, controller, partial(_peer_unfinished, app), register=adopt_register
            ),
        )

        async def on_connect() -> None:
            if settings.ha.enabled:
                await keeper.renew()  # alive again before any peer decides to take over
            await controller.reconcile()
            register_wake.set()  # calls connected while we were away are in the register

        events = EventStream(
            session,
            settings.ari,
            on_event=claimer.on_event,
            on_connect=on_connect,
            on_open=controller.connection_opened,
            rest=rest,
        )
        app[CONTROLLER] = controller
        app[EVENTS] = events
        app[CLAIMER] = claimer
        app[LEASES] = keeper
        metrics.readings.controller = controller
        metrics.readings.events = events
        task = _supervised(app, "ari-events", lambda _: events.run())
        running = [task]
        if settings.ha.enabled:
            running.append(_supervised(app, "ha-leases", keeper.run))
        refresh = partial(
            refresh_routes,
            controller,
            settings,
            app[SESSIONS],
            cache=_routes_cache(settings),
            last=changes,
        )
        routes = _supervised(app, "routes", lambda rounds: refresh(rounds=rounds))
        register_job = partial(
            import_register,
            importer,
            interval_seconds=settings.dialplan.register_import_seconds,
            wake=register_wake,
        )
        register = _supervised(app, "register", lambda rounds: register_job(rounds=rounds))
        watch = partial(
            versions.run,
            lambda: controller.flow.settings,
            interval_seconds=settings.service.settings_refresh_seconds,
            clock=utc_now,
        )
        prompts = _supervised(app, "prompt-versions", lambda rounds: watch(rounds=rounds))
        yield
        for job in (prompts, register, routes, *running):
            job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job
        await claimer.close()
        await controller.close()
        await _stop_sealing(app)


async def _stop_sealing(app: web.Application) -> None:
    """Stop the seal task, then seal what it still held, within a bound."""
    if SEALER not in app:
        return
    await app[DUTIES].stop("seal")
    try:
        async with asyncio.timeout(_SEAL_ON_STOP_SECONDS):
            await app[SEALER].drain()
    except TimeoutError:
        log.warning("seal.left_for_next_start", waiting=app[SEALER].waiting)


def _settle_and_seal(app: web.Application) -> Callable[..., Awaitable[Settled]]:
    """``finalise.settle``, then, with ``[encryption]`` on, the recording queued for sealing
    (``recording/seal.py``); the seal task runs under the supervisor."""
    settings = app[SETTINGS]
    wait = settings.recording.finalise_timeout_seconds
    keys = settings.encryption.master_keys
    if not settings.encryption.enabled or keys is None:
        return partial(settle, wait_seconds=wait)
    sealer = Sealer(
        recordings_dir=settings.recording.service_dir,
        keys=keys,
        sessions=app[SESSIONS],
        clock=utc_now,
        instance=settings.ari.app if settings.ha.enabled else None,
        sweep_interval_seconds=settings.encryption.sweep_interval_seconds,
        lookback_hours=settings.encryption.sweep_lookback_hours,
        hand_over=app[UPLOADS].add_many if UPLOADS in app else None,
    )
    app[SEALER] = sealer
    app[METRICS].readings.sealer = sealer
    _supervised(app, "seal", sealer.run)
    root = settings.recording.service_dir

    async def settle_and_seal(path: Path, *, discard: bool = False) -> Settled:
        settled = await settle(path, wait_seconds=wait, discard=discard)
        if settled.status in (RecordingStatus.COMPLETE, RecordingStatus.EMPTY):
            hashes = {path.name: settled.facts.sha256 if settled.facts else None}
            for leg, facts in zip(
                leg_files(path), (settled.caller_leg, settled.agent_leg), strict=True
            ):
                hashes[leg.name] = facts.sha256 if facts else None
            sealer.submit(Pending(relative_path=path.relative_to(root).as_posix(), hashes=hashes))
        return settled

    return settle_and_seal


async def _prompt_versions(app: web.Application, effective: Settings) -> PromptWatcher:
    """The installed prompts' versions, looked at once before the first call is taken.

    Hashing a few small files takes milliseconds; with the database down the map holds the
    hashes without version numbers, and the watcher's rounds record the versions later.
    """
    watcher = PromptWatcher(PromptVersions(), app[SESSIONS])
    try:
        await watcher.round(effective, now=utc_now())
    except (SQLAlchemyError, OSError, CallrecError) as exc:
        error = str(exc) if isinstance(exc, CallrecError) else describe_error(exc)
        log.warning("prompt_versions.not_recorded", error=error)
    return watcher


async def _unfinished_calls(app: web.Application) -> list[CallRecord]:
    """Calls an earlier run was following: unstored ones from the journal, then the database's.

    With peers (``[ha]``) only this instance's rows, and none another instance took over
    while this one was down (that one follows them; our journal's replay cannot undo it).
    """
    settings = app[SETTINGS]
    records = {record.uniqueid: record for record in app[WRITER].unstored()}
    owners = [settings.ari.app, None] if settings.ha.enabled else None
    try:
        async with asyncio.timeout(_UNFINISHED_LOOKUP_SECONDS), app[SESSIONS]() as session:
            stored = await unfinished_calls(session, _ADOPT_AT_MOST, handled_by=owners)
            if owners is not None:
                handlers = await handlers_of(session, list(records))
                for uniqueid, handler in handlers.items():
                    if handler not in owners:
                        del records[uniqueid]
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        log.warning("calls.unfinished_unknown", error=describe_error(exc))
        stored = []
    for record in stored:
        records.setdefault(record.uniqueid, record)  # the journal's snapshot is the newer
    # Calls the dialplan connected without us are the register's to complete, not ours.
    return [
        record
        for record in records.values()
        if not record.finished and record.consent != Consent.SERVICE_UNAVAILABLE
    ]


async def _peer_unfinished(app: web.Application, peer: str) -> list[CallRecord]:
    """The unfinished rows a dead peer left (``DatabaseError`` if they cannot be read)."""
    try:
        async with asyncio.timeout(_UNFINISHED_LOOKUP_SECONDS), app[SESSIONS]() as session:
            return await unfinished_calls(session, _ADOPT_AT_MOST, handled_by=[peer])
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        raise DatabaseError(
            f"The calls instance {peer} left could not be read: {describe_error(exc)}."
        ) from None


async def _health(request: web.Request) -> web.Response:
    app = request.app
    events = app[EVENTS]
    body = {
        "ari_connected": events.connected,
        "ari_connections": events.connections,
        "calls_reconciled": events.reconciled,
        "calls_in_progress": app[CONTROLLER].active,
        "rows_pending": app[WRITER].pending,
        "do_not_record_numbers": len(app[DO_NOT_RECORD]),
        "tasks": app[DUTIES].view(),
        "tasks_failing": app[DUTIES].failing,
        "application": app[SETTINGS].ari.app,
        "application_replaced": events.replaced,
        "calls_claimed": app[CLAIMER].won,
    }
    if app[SETTINGS].ha.enabled:
        body["peers"] = app[LEASES].leases.view(time.monotonic())
    if SEALER in app:
        body["recordings_to_seal"] = app[SEALER].waiting  # still plain on disk
    if UPLOADS in app:
        body["uploads_pending"] = len(app[UPLOADS].pending)  # sealed, not yet in the store
    healthy = events.connected and not events.replaced and not app[DUTIES].failing
    return web.json_response(body, status=200 if healthy else 503)
