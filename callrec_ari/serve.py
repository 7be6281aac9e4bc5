"""Serving one or more aiohttp applications in one process until SIGINT or SIGTERM.

``callrec run`` serves the call service (``/healthz``) and the staff web app side by side:
two sites, one event loop. They stop in reverse order, so the web app goes before the calls.
"""

from __future__ import annotations

import asyncio
import signal
import ssl
from dataclasses import dataclass

import structlog
from aiohttp import web

log = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class Site:
    """One application and where it listens."""

    name: str
    app: web.Application
    host: str
    port: int
    ssl_context: ssl.SSLContext | None = None


async def serve(sites: list[Site], *, stop: asyncio.Event | None = None) -> None:
    """Start every site, wait for a stop signal (or ``stop``), then clean up in reverse order."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runners: list[web.AppRunner] = []
    try:
        for site in sites:
            runner = web.AppRunner(site.app, handle_signals=False, access_log=None)
            await runner.setup()
            runners.append(runner)
            await web.TCPSite(runner, site.host, site.port, ssl_context=site.ssl_context).start()
            scheme = "https" if site.ssl_context else "http"
            log.info("serving", site=site.name, url=f"{scheme}://{site.host}:{site.port}")
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        for runner in reversed(runners):
            await runner.cleanup()
