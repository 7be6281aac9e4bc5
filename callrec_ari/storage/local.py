"""``LocalStore``: recordings kept in a folder on this machine (the embedded default).

A key is a path below the folder. ``put`` copies into a hidden file beside the target and
renames it into place, so a reader never sees half a file and a crash leaves only a hidden
``.callrec-put-*`` file, which listings skip. Every file operation runs in a worker thread:
a slow disk delays the caller, never the event loop. Empty folders are left alone, since
Asterisk may be about to write into one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG
from typing import BinaryIO

from callrec_ari.errors import NotFoundError, StorageError
from callrec_ari.storage.port import (
    CHUNK_BYTES,
    ByteStream,
    ObjectInfo,
    check_key,
    check_prefix,
    check_range,
    empty_stream,
    file_sha256,
)

TEMP_PREFIX = ".callrec-put-"
_DELETE_BATCH = 1000  # files removed per trip to the worker thread


class LocalStore:
    """A folder holding one file per key."""

    def __init__(self, root: Path, *, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.root = root
        self._chunk_bytes = chunk_bytes

    @property
    def description(self) -> str:
        """The folder, for messages."""
        return f"the folder {self.root}"

    def path_for(self, key: str) -> Path:
        """The file that holds ``key``."""
        return self.root.joinpath(*check_key(key).split("/"))

    async def put(self, key: str, source: Path, *, sha256: str | None = None) -> ObjectInfo:
        """Copy ``source`` into place under ``key`` (atomically: a hidden copy, renamed)."""
        del sha256  # the copy is checked by reading it back (``checksum``), not trusted
        target = self.path_for(key)
        return await asyncio.to_thread(self._put, key, source, target)

    def _put(self, key: str, source: Path, target: Path) -> ObjectInfo:
        temp = target.with_name(f"{TEMP_PREFIX}{secrets.token_hex(8)}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with source.open("rb") as reader, temp.open("xb") as writer:
                shutil.copyfileobj(reader, writer, 1024 * 1024)
                writer.flush()
                os.fsync(writer.fileno())
            temp.replace(target)
            return _info(key, target.stat())
        except FileNotFoundError as exc:
            _discard(temp)
            if exc.filename == str(source):
                raise StorageError(f"The file {source} to be stored does not exist.") from None
            raise self._failed("written", exc) from None
        except OSError as exc:
            _discard(temp)
            raise self._failed("written", exc) from None

    async def read(self, key: str, start: int = 0, end: int | None = None) -> ByteStream:
        """The bytes ``[start, end)`` of the file, read chunk by chunk in a worker thread."""
        check_range(start, end)
        path = self.path_for(key)
        try:
            file, size = await asyncio.to_thread(_open, path)
        except (FileNotFoundError, IsADirectoryError):  # a folder of keys is no object
            raise NotFoundError(f"The stored recording {key} is not in {self.root}.") from None
        except OSError as exc:
            raise self._failed("read", exc) from None
        first = min(start, size)
        last = size if end is None else min(end, size)
        if last <= first:
            file.close()
            return empty_stream(first, size)
        return ByteStream(
            self._chunks(file, first, last), start=first, length=last - first, total=size
        )

    async def _chunks(self, file: BinaryIO, start: int, end: int) -> AsyncGenerator[bytes, None]:
        try:
            await asyncio.to_thread(file.seek, start)
            left = end - start
            while left > 0:
                chunk = await asyncio.to_thread(file.read, min(self._chunk_bytes, left))
                if not chunk:  # the file shrank under us: end the stream, short
                    return
                left -= len(chunk)
                yield chunk
        except OSError as exc:
            raise self._failed("read", exc) from None
        finally:
            file.close()

    async def head(self, key: str) -> ObjectInfo | None:
        """The file's size and modification time, or None if it does not exist."""
        path = self.path_for(key)
        try:
            stat = await asyncio.to_thread(path.stat)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._failed("read", exc) from None
        return _info(key, stat) if S_ISREG(stat.st_mode) else None

    async def checksum(self, key: str) -> str | None:
        """The SHA-256 of the file as it is on disk now (read back in full)."""
        path = self.path_for(key)
        try:
            return await asyncio.to_thread(file_sha256, path)
        except (FileNotFoundError, IsADirectoryError):
            return None
        except OSError as exc:
            raise self._failed("read", exc) from None

    async def delete(self, key: str) -> None:
        """Remove the file, if it is there."""
        await self.delete_many([key])

    async def delete_many(self, keys: Iterable[str]) -> int:
        """Remove the files, a thousand per trip to the worker thread."""
        handled = 0
        batch: list[Path] = []
        for key in keys:
            batch.append(self.path_for(key))
            if len(batch) == _DELETE_BATCH:
                handled += await asyncio.to_thread(self._unlink_all, batch)
                batch = []
        if batch:
            handled += await asyncio.to_thread(self._unlink_all, batch)
        return handled

    def _unlink_all(self, paths: list[Path]) -> int:
        for path in paths:
            try:
                path.unlink(missing_ok=True)
            except IsADirectoryError:
                continue  # a folder of other keys: no object of its own to remove
            except OSError as exc:
                raise self._failed("changed", exc) from None
        return len(paths)

    async def objects(
        self, prefix: str = "", *, start_after: str = ""
    ) -> AsyncGenerator[ObjectInfo, None]:
        """Every file under the folder whose key starts with ``prefix`` (and sorts after
        ``start_after``), in key order.

        Folders are read one at a time, so memory holds the names of one folder per level,
        not the tree. A folder's entries are sorted as ``name/`` for a subfolder, which makes
        the depth-first walk come out in the byte order S3 lists keys in.
        """
        check_prefix(prefix)
        async for info in self._walk("", prefix, start_after):
            yield info

    async def _walk(self, folder: str, prefix: str, after: str) -> AsyncIterator[ObjectInfo]:
        try:
            entries = await asyncio.to_thread(self._entries, folder)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise self._failed("read", exc) from None
        for name, is_dir, stat in entries:
            key = f"{folder}{name}"
            if is_dir:
                folder_key = f"{key}/"
                # Every key in a folder sorts before ``after`` when the folder's own name does
                # and ``after`` is not inside it: such a folder is not read.
                passed = folder_key < after and not after.startswith(folder_key)
                wanted = folder_key.startswith(prefix) or prefix.startswith(folder_key)
                if wanted and not passed:
                    async for info in self._walk(folder_key, prefix, after):
                        yield info
            elif key.startswith(prefix) and key > after and stat is not None:
                yield _info(key, stat)

    def _entries(self, folder: str) -> list[tuple[str, bool, os.stat_result | None]]:
        """One folder's files (with their stat) and subfolders, in key order; symbolic
        links and unfinished copies are left out."""
        path = self.root.joinpath(*folder.split("/")) if folder else self.root
        found: list[tuple[str, str, bool, os.stat_result | None]] = []
        with os.scandir(path) as scan:
            for entry in scan:
                if entry.name.startswith(TEMP_PREFIX) or entry.is_symlink():
                    continue
                if entry.is_dir(follow_symlinks=False):
                    found.append((f"{entry.name}/", entry.name, True, None))
                elif entry.is_file(follow_symlinks=False):
                    try:
                        stat = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:  # removed while we looked
                        continue
                    found.append((entry.name, entry.name, False, stat))
        found.sort(key=lambda item: item[0].encode("utf-8", "surrogateescape"))
        return [(name, is_dir, stat) for _, name, is_dir, stat in found]

    async def close(self) -> None:
        """Nothing to release."""

    def _failed(self, what: str, exc: OSError) -> StorageError:
        reason = exc.strerror or type(exc).__name__
        return StorageError(f"The recordings folder {self.root} cannot be {what}: {reason}.")


def _discard(temp: Path) -> None:
    """Remove a temporary copy after a failure, which is the error worth reporting."""
    with contextlib.suppress(OSError):
        temp.unlink(missing_ok=True)


def _open(path: Path) -> tuple[BinaryIO, int]:
    file = path.open("rb")
    try:
        return file, os.fstat(file.fileno()).st_size
    except OSError:
        file.close()
        raise


def _info(key: str, stat: os.stat_result) -> ObjectInfo:
    return ObjectInfo(
        key=key, size=stat.st_size, modified_at=datetime.fromtimestamp(stat.st_mtime, UTC)
    )
