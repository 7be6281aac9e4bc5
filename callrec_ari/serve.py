"""Serving one or more aiohttp applications in one process until SIGINT or SIGTERM.

``callrec run`` serves the call service (``/healthz``) and the staff web app side by side:
two sites, one event loop. They stop in reverse order, so the web app goes before the calls.
"""

from __future__ import annotations

import asyncio
import gc
import signal
import socket
import ssl
from dataclasses import dataclass

import structlog
from aiohttp import web

from callrec_ari.errors import ConfigError

log = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class Site:
    """One application and where it listens."""

    name: str
    app: web.Application
    host: str
    port: int
    ssl_context: ssl.SSLContext | None = None
    config_table: str = ""  # where host and port are configured, for the error message


def _cannot_listen(site: Site, exc: OSError) -> ConfigError:
    where = f" (set in {site.config_table})" if site.config_table else ""
    return ConfigError(
        f"The {site.name} site cannot listen on {site.host}:{site.port}{where}: "
        f"{exc.strerror or exc}."
    )


def probe(site: Site) -> None:
    """Bind ``site``'s address once and let go, before any application starts: a port in
    use is then one sentence, not an error after the service began connecting to ARI."""
    if site.port == 0:
        return
    try:
        for family, kind, proto, _name, address in socket.getaddrinfo(
            site.host, site.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        ):
            with socket.socket(family, kind, proto) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp does
                sock.bind(address)
    except OSError as exc:
        raise _cannot_listen(site, exc) from None


async def start_site(runner: web.AppRunner, site: Site) -> None:
    """Listen for ``site``; an address in use or not ours is ``ConfigError``, one sentence."""
    try:
        await web.TCPSite(runner, site.host, site.port, ssl_context=site.ssl_context).start()
    except OSError as exc:
        raise _cannot_listen(site, exc) from None


async def serve(
    sites: list[Site], *, stop: asyncio.Event | None = None, freeze_heap: bool = False
) -> None:
    """Start every site, wait for a stop signal (or ``stop``), then clean up in reverse order.

    ``freeze_heap`` (the service process, not tests): once every site is up, what start-up
    built is moved out of the garbage collector's sight (``gc.freeze``). A full collection
    otherwise walks all of it, SQLAlchemy's metadata, the templates, every module: 60 ms and
    more with the event loop stopped, calls' events waiting (README, Performance).
    """
    stop = stop or asyncio.Event()
    for site in sites:
        probe(site)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runners: list[web.AppRunner] = []
    try:
        for site in sites:
            runner = web.AppRunner(site.app, handle_signals=False, access_log=None)
            await runner.setup()
            runners.append(runner)
            await start_site(runner, site)
            scheme = "https" if site.ssl_context else "http"
            log.info("serving", site=site.name, url=f"{scheme}://{site.host}:{site.port}")
        if freeze_heap:
            gc.collect()
            gc.freeze()
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        for runner in reversed(runners):
            await runner.cleanup()
