"""``callrec sandbox up``, ``sandbox call`` and ``demo``: callrec on a local Asterisk.

``sandbox up`` is the one command that sets everything up on the embedded defaults and runs
the service; ``demo`` does the same for one real call and prints the row it produced.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from callrec_ari.app import CONTROLLER, EVENTS, WRITER, build_app
from callrec_ari.config import Settings
from callrec_ari.db import lookup, schema
from callrec_ari.errors import SandboxError
from callrec_ari.flow.states import DECLINE_HINT
from callrec_ari.prompts.install import prompt_duration
from callrec_ari.records import CallRecord
from callrec_ari.sandbox.asterisk import SandboxSettings
from callrec_ari.sandbox.rootfs import ensure_rootfs
from callrec_ari.sandbox.session import SandboxSession, sandbox_config
from callrec_ari.sandbox.sipp import CallerScript, place_calls

Adapt = Callable[[dict[str, Any]], dict[str, Any]]
LoadSettings = Callable[[argparse.Namespace, Adapt | None], Settings]


def add_commands(
    sub: Any,
    *,
    sandbox_cache: Callable[[], Path],
    load_settings: LoadSettings,
    default_config: Path,
) -> None:
    """Add ``sandbox`` and ``demo`` to the ``callrec`` command line."""

    def with_config(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument(
            "-c", "--config", type=Path, default=default_config, help="the TOML config file"
        )
        return parser

    sandbox = sub.add_parser("sandbox", help="A local Asterisk 22 (chroot) wired to callrec.")
    actions = sandbox.add_subparsers(required=True, metavar="ACTION")
    build = actions.add_parser(
        "build", help="Build (once) the cached Debian unstable root file system with Asterisk 22."
    )
    build.set_defaults(handler=lambda _a: _build(sandbox_cache()))
    up = with_config(
        actions.add_parser("up", help="Build and start the sandbox and run the service on it.")
    )
    up.set_defaults(handler=lambda a: _up(a, sandbox_cache(), load_settings))
    call = with_config(
        actions.add_parser("call", help="Place calls into a running sandbox with sipp.")
    )
    _call_options(call)
    call.add_argument("--calls", type=int, default=1)
    call.add_argument("--rate", type=float, default=1.0, help="calls per second")
    call.set_defaults(handler=lambda a: _call(a, sandbox_cache(), load_settings(a, None)))
    demo = with_config(sub.add_parser("demo", help="Place one real call and print its row."))
    _call_options(demo)
    demo.set_defaults(handler=lambda a: _demo(a, sandbox_cache(), load_settings))


def _call_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("did", nargs="?", default="5551000", help="the number dialled")
    parser.add_argument("--caller", default="48221234567", help="the caller's number")
    parser.add_argument("--wait-ms", type=int, help="listen this long first (default: the prompt)")
    parser.add_argument("--press", help="press this key after --wait-ms (e.g. the decline key)")
    parser.add_argument("--talk-ms", type=int, default=3000, help="talk this long, then hang up")


def announcement_seconds(settings: Settings, did: str) -> float:
    """How long a caller to ``did`` listens before being connected (every language and hint)."""
    route = settings.route_for(did)
    names = [route.prompt] + ([DECLINE_HINT] if settings.consent.decline_key else [])
    return sum(
        prompt_duration(settings.prompts.source_dir / language / f"{name}.wav")
        for language in route.languages
        for name in names
    )


def _script(args: argparse.Namespace, settings: Settings) -> CallerScript:
    wait_ms = args.wait_ms
    if wait_ms is None:
        wait_ms = int(announcement_seconds(settings, args.did) * 1000) + 1000
    return CallerScript(
        did=args.did, caller=args.caller, wait_ms=wait_ms, press=args.press, talk_ms=args.talk_ms
    )


def _build(cache: Path) -> int:
    print(ensure_rootfs(cache))
    return 0


def _up(args: argparse.Namespace, cache: Path, load_settings: LoadSettings) -> int:
    with SandboxSession(cache) as asterisk:
        settings = load_settings(args, lambda data: sandbox_config(data, asterisk))
        schema.upgrade(settings.database.url)
        print(
            f"Asterisk 22 is up (ARI {asterisk.settings.ari_url}, SIP "
            f"{asterisk.settings.sip_host}:{asterisk.settings.sip_port}); the service runs.\n"
            f"Place a call from another terminal:  callrec sandbox call 5551000\n"
            f"See the rows:                        callrec calls -c {args.config}\n"
            f"Stop with Ctrl-C.",
            flush=True,
        )
        web.run_app(
            build_app(settings), host=settings.service.host, port=settings.service.port, print=None
        )
    return 0


def _call(args: argparse.Namespace, cache: Path, settings: Settings) -> int:
    result = asyncio.run(
        place_calls(
            SandboxSettings(),
            _script(args, settings),
            cache / "work" / "caller",
            calls=args.calls,
            rate=args.rate,
        )
    )
    print(result.log.strip() or "(no log)")
    if not result.ok:
        raise SandboxError(f"sipp reported failed calls: {result.errors[-400:]}")
    return 0


def _demo(args: argparse.Namespace, cache: Path, load_settings: LoadSettings) -> int:
    with SandboxSession(cache) as asterisk:
        settings = load_settings(args, lambda data: sandbox_config(data, asterisk))
        schema.upgrade(settings.database.url)
        script = _script(args, settings)
        print(
            f"Calling {script.did} from {script.caller}: listening {script.wait_ms / 1000:.1f} s "
            f"to the announcement, then talking {script.talk_ms / 1000:.1f} s ...",
            flush=True,
        )
        record = asyncio.run(_one_call(settings, asterisk.settings, script, cache / "work"))
    print(json.dumps(record.to_json(), indent=2))
    return 0


async def _one_call(
    settings: Settings, sandbox: SandboxSettings, script: CallerScript, workdir: Path
) -> CallRecord:
    app = build_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.service.host, settings.service.port).start()
        await asyncio.wait_for(app[EVENTS].wait_connected(), 15)
        result = await place_calls(sandbox, script, workdir / "caller")
        if not result.ok:
            raise SandboxError(f"The demo call failed in sipp: {result.errors[-400:]}")
        await asyncio.wait_for(
            app[CONTROLLER].wait_idle(), settings.recording.finalise_timeout_seconds
        )
        await app[WRITER].flush(10)
    finally:
        await runner.cleanup()
    return (await lookup.latest(settings.database.url, 1))[0]
