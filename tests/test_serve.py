"""Serving: the service process puts what start-up built out of the garbage collector's way."""

from __future__ import annotations

import asyncio
import gc

import aiohttp
from aiohttp import web

from callrec_ari.serve import Site, serve
from tests.support.postgres import free_port


async def _up(_: web.Request) -> web.Response:
    return web.Response(text="up")


async def _serving(freeze_heap: bool) -> int:
    """How many objects the collector leaves alone while a site is up."""
    app = web.Application()
    app.router.add_get("/", _up)
    port = free_port()
    stop = asyncio.Event()
    server = asyncio.create_task(
        serve(
            [Site(name="web", app=app, host="127.0.0.1", port=port)],
            stop=stop,
            freeze_heap=freeze_heap,
        )
    )
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/") as response:
                        assert await response.text() == "up"
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.02)
        return gc.get_freeze_count()
    finally:
        stop.set()
        await server
        gc.unfreeze()  # the test process goes on collecting as before


async def test_the_service_freezes_its_start_up_heap_once_serving():
    """A full collection would otherwise walk every module, table and template at each run,
    stopping the event loop for 60-200 ms (measured on the benchmark)."""
    assert await _serving(freeze_heap=True) > 10_000


async def test_other_callers_of_serve_keep_the_collector_as_it_was():
    assert await _serving(freeze_heap=False) == 0
