"""Sending a recording's audio with HTTP Range support, plain or encrypted.

A plain WAV goes out as aiohttp's ``FileResponse`` (sendfile, its own Range handling). An
encrypted one is decrypted on the way: only the chunks that hold the asked range are read
(``crypto/format.py``), in a worker thread, a piece at a time, so a player that seeks to the
last minute of a long call costs one chunk, and the event loop never waits on a disk.
One range per request (``bytes=a-b``, ``a-``, ``-n``), as browsers' media players ask.

A recording only the object store holds (``Listening.remote``) is streamed from there: the
chunks that hold the asked range come in one ranged GET and are decrypted as they arrive
(``storage/encrypted_range.py``); nothing is written to disk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiohttp import web

from callrec_ari.calls.listen import Listening
from callrec_ari.recording.audio import StoredAudio
from callrec_ari.storage.encrypted_range import plaintext

_PIECE = 1 << 16  # bytes decrypted and sent at a time: one chunk


class _UnsatisfiableError(Exception):
    """The asked range is malformed or starts past the end."""


def _span(request: web.Request, size: int) -> tuple[int, int] | None:
    """The asked range as ``[start, end)``; None for the whole file."""
    try:
        asked = request.http_range
    except ValueError:
        raise _UnsatisfiableError from None
    start, stop = asked.start, asked.stop
    if start is None and stop is None:
        return None
    if start is not None and start < 0:  # the last -start bytes
        start, stop = max(size + start, 0), size
    start = start or 0
    stop = size if stop is None else min(stop, size)
    if start >= size or start >= stop:
        raise _UnsatisfiableError
    return start, stop


async def send_listening(
    request: web.Request, listening: Listening, *, headers: Mapping[str, str]
) -> web.StreamResponse:
    """The recording ``listening`` found, from the disk (``send_audio``) or from the store."""
    remote, key = listening.remote, listening.key
    if remote is None or key is None:
        return await send_audio(request, listening.audio, headers=headers)
    size = remote.size
    try:
        span = _span(request, size)
    except _UnsatisfiableError:
        return web.Response(status=416, headers={"Content-Range": f"bytes */{size}"})
    start, stop = span if span is not None else (0, size)
    pieces = plaintext(remote, key, start, stop)
    try:
        # The first piece before any header: a store that fails now is an error page, not a
        # response cut short.
        first = await anext(pieces, b"")
        response = _ranged(headers, span, start, stop, size)
        await response.prepare(request)
        if request.method == "HEAD":
            return response
        await response.write(first)
        async for piece in pieces:
            await response.write(piece)
        await response.write_eof()
        return response
    finally:
        await pieces.aclose()


def _ranged(
    headers: Mapping[str, str], span: tuple[int, int] | None, start: int, stop: int, size: int
) -> web.StreamResponse:
    response = web.StreamResponse(status=200 if span is None else 206, headers=headers)
    response.headers["Accept-Ranges"] = "bytes"
    response.content_length = stop - start
    if span is not None:
        response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    return response


async def send_audio(
    request: web.Request, audio: StoredAudio, *, headers: Mapping[str, str]
) -> web.StreamResponse:
    """The WAV of ``audio`` (all of it, or the asked range) with ``headers`` added."""
    if not audio.encrypted:
        # A file deleted since the check (purge, erasure) is answered 404 by FileResponse.
        return web.FileResponse(audio.path, headers=headers)
    try:
        handle = await asyncio.to_thread(audio.open)
    except FileNotFoundError:
        raise web.HTTPNotFound from None
    try:
        size = handle.seek(0, 2)
        try:
            span = _span(request, size)
        except _UnsatisfiableError:
            # A response, not a raised HTTPException: the error pages would drop the header.
            return web.Response(status=416, headers={"Content-Range": f"bytes */{size}"})
        start, stop = span if span is not None else (0, size)
        response = _ranged(headers, span, start, stop, size)
        await response.prepare(request)
        if request.method == "HEAD":
            return response
        await asyncio.to_thread(handle.seek, start)
        left = stop - start
        while left > 0:
            piece = await asyncio.to_thread(handle.read, min(_PIECE, left))
            if not piece:
                break
            await response.write(piece)
            left -= len(piece)
        await response.write_eof()
        return response
    finally:
        await asyncio.to_thread(handle.close)
