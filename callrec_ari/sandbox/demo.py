"""One real call through the sandbox, and the row it left: ``callrec demo`` and ``sandbox call``.

The caller's script follows the route: it listens to the whole announcement unless it is to
press a key, in which case it presses during the announcement (that is when a caller
refuses), and it waits for the PBX to hang up when the route hangs up on a refusal.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from callrec_ari.app import CONTROLLER, EVENTS, WRITER, build_app
from callrec_ari.config import DeclineAction, Settings
from callrec_ari.db import lookup
from callrec_ari.errors import SandboxError
from callrec_ari.flow.states import DECLINE_HINT
from callrec_ari.prompts.install import prompt_duration
from callrec_ari.records import CallRecord, Consent, RecordingStatus
from callrec_ari.sandbox.asterisk import SandboxSettings
from callrec_ari.sandbox.sipp import CallerScript, CallResult, place_calls

PRESS_AFTER_MS = 3000  # a key pressed without --wait-ms: well inside every announcement


@dataclass(frozen=True, kw_only=True)
class CallOptions:
    """What the person asked for on the command line."""

    did: str
    caller: str
    wait_ms: int | None
    press: str | None
    talk_ms: int


def announcement_seconds(settings: Settings, did: str) -> float:
    """How long a caller to ``did`` listens before being connected (every language and hint)."""
    route = settings.route_for(did)
    names = [route.prompt] + ([DECLINE_HINT] if settings.consent.decline_key else [])
    return sum(
        prompt_duration(settings.prompts.source_dir / language / f"{name}.wav")
        for language in route.languages
        for name in names
    )


def caller_script(settings: Settings, options: CallOptions) -> CallerScript:
    """The sipp caller's script for ``options`` on this configuration's route."""
    route = settings.route_for(options.did)
    declines = options.press is not None and options.press == settings.consent.decline_key
    wait_ms = options.wait_ms
    if wait_ms is None:
        if options.press is not None:
            wait_ms = PRESS_AFTER_MS
        else:
            wait_ms = int(announcement_seconds(settings, options.did) * 1000) + 1000
    return CallerScript(
        did=options.did,
        caller=options.caller,
        wait_ms=wait_ms,
        press=options.press,
        talk_ms=options.talk_ms,
        far_end_hangs_up=declines and route.on_decline == DeclineAction.HANGUP,
    )


async def call_once(
    sandbox: SandboxSettings, script: CallerScript, *, calls: int = 1, rate: float = 1.0
) -> CallResult:
    """Place ``calls`` calls from the sandbox's trunk; ``SandboxError`` if sipp saw a failure.

    sipp works in a folder of its own, so two commands calling at once never mix their logs.
    """
    workdir = Path(tempfile.mkdtemp(prefix="callrec-caller-"))
    try:
        result = await place_calls(sandbox, script, workdir, calls=calls, rate=rate)
    finally:
        await asyncio.to_thread(shutil.rmtree, workdir, True)
    if not result.ok:
        last = result.errors.strip().splitlines()[-1:] or ["no detail"]
        raise SandboxError(f"sipp reported a failed call: {last[0][:300]}")
    return result


async def call_with_own_service(
    settings: Settings, sandbox: SandboxSettings, script: CallerScript
) -> CallRecord:
    """Run the service in this process (no port of its own), place the call, return its row."""
    app = build_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()  # /healthz is not needed here
        await asyncio.wait_for(app[EVENTS].wait_connected(), 15)
        started = datetime.now(UTC)
        await call_once(sandbox, script)
        await asyncio.wait_for(
            app[CONTROLLER].wait_idle(), settings.recording.finalise_timeout_seconds
        )
        await app[WRITER].flush(10)
    finally:
        await runner.cleanup()
    return await settled_row(settings, script.caller, started, within_seconds=10)


async def call_running_sandbox(
    settings: Settings, sandbox: SandboxSettings, script: CallerScript
) -> CallRecord:
    """Place the call into a sandbox whose service runs elsewhere and wait for its row."""
    started = datetime.now(UTC)
    await call_once(sandbox, script)
    within = settings.recording.finalise_timeout_seconds + 15
    return await settled_row(settings, script.caller, started, within_seconds=within)


async def settled_row(
    settings: Settings, caller: str, since: datetime, *, within_seconds: float
) -> CallRecord:
    """The newest row of ``caller`` started after ``since``, once its outcome is final."""
    deadline = time.monotonic() + within_seconds
    earliest = since - timedelta(seconds=2)  # Asterisk's clock and ours, rounded
    while True:
        for record in await lookup.latest(settings.database.url, 20):
            if record.caller_number == caller and record.started_at >= earliest and _final(record):
                return record
        if time.monotonic() > deadline:
            raise SandboxError(
                f"The call from {caller} left no settled row in {settings.database.url} "
                f"within {within_seconds:.0f} s; is the sandbox's service running?"
            )
        await asyncio.sleep(0.2)


def _final(record: CallRecord) -> bool:
    return (
        record.ended_at is not None
        and record.consent != Consent.PENDING
        and record.recording_status != RecordingStatus.RECORDING
    )
