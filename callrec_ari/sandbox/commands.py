"""``callrec sandbox build|up|call`` and ``callrec demo``: callrec on a local Asterisk.

``sandbox up`` is the one command that sets everything up on the embedded defaults and runs
the service, supervising what it started. It writes the configuration it really runs with to
``var/sandbox.toml`` beside the config file, so every other command (``calls``, ``find``,
``export``, ``web`` ...) can work on the sandbox's own recordings and database. ``demo`` and
``sandbox call`` use a running sandbox if there is one and never start a second one on top.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import tomli_w
from aiohttp import web

from callrec_ari.app import build_app
from callrec_ari.config import Settings, read
from callrec_ari.config.parse import with_absolute_paths
from callrec_ari.db import schema
from callrec_ari.errors import SandboxError
from callrec_ari.records import CallRecord
from callrec_ari.sandbox.asterisk import AsteriskSandbox, SandboxSettings, require_root
from callrec_ari.sandbox.demo import (
    CallOptions,
    call_once,
    call_running_sandbox,
    call_with_own_service,
    caller_script,
)
from callrec_ari.sandbox.lock import Holder
from callrec_ari.sandbox.rootfs import ensure_rootfs
from callrec_ari.sandbox.session import SandboxSession, instance_lock, sandbox_config
from callrec_ari.sandbox.supervise import Supervisor, supervise
from callrec_ari.serve import Site, start_site

Adapt = Callable[[dict[str, Any]], dict[str, Any]]
LoadSettings = Callable[[argparse.Namespace, Adapt | None], Settings]
SANDBOX_CONFIG = Path("var") / "sandbox.toml"  # beside the config file it was made from


def add_commands(
    sub: Any,
    *,
    sandbox_cache: Callable[[], Path],
    sandbox_slot: Callable[[], int],
    load_settings: LoadSettings,
    default_config: Path,
) -> None:
    """Add ``sandbox`` and ``demo`` to the ``callrec`` command line."""

    def with_config(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument(
            "-c", "--config", type=Path, default=default_config, help="the TOML config file"
        )
        return parser

    def session(command: str) -> SandboxSession:
        settings = SandboxSettings.for_slot(sandbox_slot())
        return SandboxSession(sandbox_cache(), settings=settings, command=command)

    sandbox = sub.add_parser("sandbox", help="A local Asterisk 22 (chroot) wired to callrec.")
    actions = sandbox.add_subparsers(required=True, metavar="ACTION")
    build = actions.add_parser(
        "build", help="Build (once) the cached Debian unstable root file system with Asterisk 22."
    )
    build.set_defaults(handler=lambda _a: _build(sandbox_cache()))
    up = with_config(
        actions.add_parser("up", help="Build and start the sandbox and run the service on it.")
    )
    up.set_defaults(handler=lambda a: _up(a, session("callrec sandbox up"), load_settings))
    call = with_config(
        actions.add_parser("call", help="Place calls into the running sandbox with sipp.")
    )
    _call_options(call)
    call.add_argument("--calls", type=int, default=1)
    call.add_argument("--rate", type=float, default=1.0, help="calls per second")
    call.set_defaults(handler=lambda a: _call(a, session("callrec sandbox call"), load_settings))
    demo = with_config(sub.add_parser("demo", help="Place one real call and print its row."))
    _call_options(demo)
    demo.set_defaults(handler=lambda a: _demo(a, session("callrec demo"), load_settings))


def _call_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("did", nargs="?", default="5551000", help="the number dialled")
    parser.add_argument("--caller", default="48221234567", help="the caller's number")
    parser.add_argument(
        "--wait-ms",
        type=int,
        help="listen this long first (default: the whole announcement, or 3 s with --press)",
    )
    parser.add_argument("--press", help="press this key after --wait-ms (e.g. the decline key)")
    parser.add_argument("--talk-ms", type=int, default=3000, help="talk this long, then hang up")


def _options(args: argparse.Namespace) -> CallOptions:
    return CallOptions(
        did=args.did,
        caller=args.caller,
        wait_ms=args.wait_ms,
        press=args.press,
        talk_ms=args.talk_ms,
    )


def _build(cache: Path) -> int:
    require_root("Building the sandbox")
    print(ensure_rootfs(cache))
    return 0


def sandbox_config_path(config: Path) -> Path:
    """Where ``sandbox up`` writes the configuration it runs with."""
    return config.resolve().parent / SANDBOX_CONFIG


def write_config(data: Mapping[str, Any], path: Path) -> Path:
    """Write decoded TOML to ``path`` in one step, readable by its owner only (it holds the
    ARI password)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("# Written by `callrec sandbox up`: the configuration it runs with.\n")
        handle.write(tomli_w.dumps(dict(data)))
    temporary.replace(path)
    return path


def _effective(config: Path, asterisk: AsteriskSandbox) -> dict[str, Any]:
    return sandbox_config(with_absolute_paths(read(config), config.resolve().parent), asterisk)


def _up(args: argparse.Namespace, session: SandboxSession, load_settings: LoadSettings) -> int:
    load_settings(args, None)  # a bad config is named before anything is built or started
    require_root("The sandbox")
    with session as asterisk:
        data = _effective(args.config, asterisk)
        settings = load_settings(args, lambda _raw: data)
        path = write_config(data, sandbox_config_path(args.config))
        command = "callrec sandbox up"
        session.lock.record(Holder(pid=os.getpid(), command=command, config=path))
        schema.upgrade(settings.database.url)
        print(
            f"Asterisk 22 is up (ARI {asterisk.settings.ari_url}, SIP "
            f"{asterisk.settings.sip_host}:{asterisk.settings.sip_port}); the service runs.\n"
            f"Its configuration:                  {path}\n"
            f"Place a call from another terminal: callrec sandbox call 5551000\n"
            f"See the rows:                       callrec calls -c {path}\n"
            f"Stop with Ctrl-C.",
            flush=True,
        )
        return asyncio.run(_serve_supervised(session, settings))


async def _serve_supervised(session: SandboxSession, settings: Settings) -> int:
    """Serve the call service until Ctrl-C/SIGTERM; 1 if Asterisk or the phone keep dying."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = web.AppRunner(build_app(settings), handle_signals=False, access_log=None)
    await runner.setup()
    watcher = asyncio.create_task(
        supervise(Supervisor(session, say=lambda text: print(text, flush=True)))
    )
    stopped = asyncio.create_task(stop.wait())
    try:
        site = Site(
            name="calls",
            app=runner.app,
            host=settings.service.host,
            port=settings.service.port,
            config_table="[service]",
        )
        await start_site(runner, site)
        await asyncio.wait({watcher, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (watcher, stopped):
            task.cancel()
        await asyncio.gather(watcher, stopped, return_exceptions=True)
        await runner.cleanup()
    if watcher.done() and not watcher.cancelled() and watcher.exception() is not None:
        raise SandboxError(str(watcher.exception()))
    return 0


def _running_config(session: SandboxSession) -> Path | None:
    """The configuration of the service running on this sandbox instance, if one runs."""
    lock = instance_lock(session.cache_dir, session.settings)
    if lock.try_acquire():
        lock.release()
        return None
    holder = lock.holder()
    if holder is None or holder.config is None:
        raise SandboxError(lock.busy_message() + " Wait for it to finish, or stop it.")
    return holder.config


def _call(args: argparse.Namespace, session: SandboxSession, load_settings: LoadSettings) -> int:
    config = _running_config(session)
    if config is None:
        raise SandboxError(
            "No sandbox is running; start one with scripts/run-sandbox.sh "
            "(or callrec sandbox up), then call again."
        )
    settings = load_settings(argparse.Namespace(**{**vars(args), "config": config}), None)
    script = caller_script(settings, _options(args))
    result = asyncio.run(call_once(session.settings, script, calls=args.calls, rate=args.rate))
    print(result.log.strip() or "(no log)")
    return 0


def _demo(args: argparse.Namespace, session: SandboxSession, load_settings: LoadSettings) -> int:
    config = _running_config(session)
    if config is not None:
        print(f"Using the running sandbox ({config}).", flush=True)
        settings = load_settings(argparse.Namespace(**{**vars(args), "config": config}), None)
        script = caller_script(settings, _options(args))
        _announce(script.did, script.caller, script.wait_ms, script.talk_ms, script.press)
        record = asyncio.run(call_running_sandbox(settings, session.settings, script))
    else:
        record = _demo_on_own_sandbox(args, session, load_settings)
    print(json.dumps(record.to_json(), indent=2))
    return 0


def _demo_on_own_sandbox(
    args: argparse.Namespace, session: SandboxSession, load_settings: LoadSettings
) -> CallRecord:
    load_settings(args, None)  # a bad config is named before anything is built or started
    require_root("The sandbox")
    with session as asterisk:
        data = _effective(args.config, asterisk)
        settings = load_settings(args, lambda _raw: data)
        schema.upgrade(settings.database.url)
        script = caller_script(settings, _options(args))
        _announce(script.did, script.caller, script.wait_ms, script.talk_ms, script.press)
        return asyncio.run(call_with_own_service(settings, asterisk.settings, script))


def _announce(did: str, caller: str, wait_ms: int, talk_ms: int, press: str | None) -> None:
    then = f"pressing {press}" if press else "staying on"
    print(
        f"Calling {did} from {caller}: listening {wait_ms / 1000:.1f} s, then {then}, "
        f"then talking {talk_ms / 1000:.1f} s ...",
        flush=True,
    )
