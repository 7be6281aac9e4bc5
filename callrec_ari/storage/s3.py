"""``S3Store``: recordings kept in a bucket of an S3-compatible object store (aiobotocore).

Keys go under the configured prefix. A file up to one part long goes in one PUT, a larger
one in parts (a multipart upload, aborted if it fails); every body carries a Content-MD5,
so the store refuses bytes that changed on the way, and the object carries the file's
SHA-256 as metadata (``x-amz-meta-sha256``), which ``checksum`` reads back. Reads send a
Range header: a player seeking into an hour-long call fetches only what it plays.

Every failure becomes one sentence naming the bucket and endpoint (``s3_errors``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import re
from collections.abc import AsyncGenerator, Iterable, Iterator, Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from botocore.exceptions import BotoCoreError, ClientError

from callrec_ari.config.storage import S3Settings
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
from callrec_ari.storage.s3_errors import translated

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

SHA256_METADATA = "sha256"
DELETE_BATCH = 1000  # S3's limit on the keys of one DeleteObjects request
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


class S3Store:
    """One bucket (and prefix) of an S3-compatible store. Use ``async with``, or ``open``
    and ``close``."""

    def __init__(
        self,
        settings: S3Settings,
        *,
        part_concurrency: int = 2,
        delete_concurrency: int = 4,
        delete_batch: int = DELETE_BATCH,
        page_size: int = 1000,
        chunk_bytes: int = CHUNK_BYTES,
        max_attempts: int = 3,
        session: AioSession | None = None,
    ) -> None:
        self._settings = settings
        self._prefix = settings.prefix
        self._part_concurrency = part_concurrency
        self._delete_concurrency = delete_concurrency
        self._delete_batch_size = min(delete_batch, DELETE_BATCH)
        self._page_size = page_size
        self._chunk_bytes = chunk_bytes
        self._max_attempts = max_attempts
        # A session caches the API models it has read: stores sharing one start faster.
        self._session = session or AioSession()
        self._stack = AsyncExitStack()
        self._client: S3Client | None = None

    @property
    def description(self) -> str:
        """The bucket and its endpoint, for messages."""
        return f"the {self._settings.where}"

    async def open(self) -> Self:
        """Create the client (connections are opened on first use)."""
        settings = self._settings
        config = AioConfig(
            region_name=settings.region,
            s3={
                "addressing_style": settings.addressing_style.value,
                # Otherwise, over plain http, the client hashes every body (16 MiB: ~40 ms)
                # in the event loop to sign it. Each body carries a signed Content-MD5
                # (hashed in a worker thread), which the store checks instead.
                "payload_signing_enabled": False,
            },
            connect_timeout=settings.timeout_seconds,
            read_timeout=settings.timeout_seconds,
            retries={"mode": "standard", "max_attempts": self._max_attempts},
            max_pool_connections=max(10, self._part_concurrency, self._delete_concurrency),
            # Content-MD5 is sent by us; the client's own checksums would hash twice and
            # some S3-compatible stores do not know them.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            warm_up_loader_caches=True,  # reads the API models in a thread, not the loop
        )
        self._client = await self._stack.enter_async_context(
            self._session.create_client(
                "s3",
                region_name=settings.region,
                endpoint_url=settings.endpoint_url,
                aws_access_key_id=settings.access_key_id,
                aws_secret_access_key=settings.secret_access_key,
                config=config,
            )
        )
        return self

    async def close(self) -> None:
        """Close the client's connections."""
        self._client = None
        await self._stack.aclose()

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def client(self) -> S3Client:
        """The open client."""
        if self._client is None:
            raise RuntimeError("S3Store used before open() or after close().")
        return self._client

    def _object_key(self, key: str) -> str:
        return self._prefix + check_key(key)

    async def check(self) -> None:
        """Ask the store whether the bucket is there and ours: a start-up check."""
        try:
            with self._errors("reach the bucket"):
                await self.client.head_bucket(Bucket=self._settings.bucket)
        except NotFoundError:  # HEAD has no body to say NoSuchBucket: a bare 404
            raise StorageError(f"The {self._settings.where} does not exist.") from None

    async def put(self, key: str, source: Path, *, sha256: str | None = None) -> ObjectInfo:
        """Upload ``source`` under ``key``: one PUT, or a multipart upload for a large file."""
        name = self._object_key(key)
        try:
            # One trip to a worker thread: a recording is a few small files, and the trip
            # costs more CPU than reading one of them.
            size, digest, single = await asyncio.to_thread(
                _prepare, source, self._settings.part_size_bytes, sha256
            )
        except FileNotFoundError:
            raise StorageError(f"The file {source} to be stored does not exist.") from None
        except OSError as exc:
            raise StorageError(f"The file {source} cannot be read: {exc.strerror}.") from None
        metadata = {SHA256_METADATA: digest}
        if single is None:
            await self._put_parts(key, name, source, size, metadata)
            return ObjectInfo(key=key, size=size, modified_at=datetime.now(UTC))
        body, md5 = single
        with self._errors(f"store {key}"):
            response = await self.client.put_object(
                Bucket=self._settings.bucket,
                Key=name,
                Body=body,
                ContentMD5=md5,
                Metadata=metadata,
            )
        # The store checked the body against Content-MD5 (or failed the PUT); an ETag that is
        # the same MD5 says it stored what it checked. Otherwise (e.g. SSE-KMS ETags) the
        # caller confirms with a HEAD.
        etag = response.get("ETag", "").strip('"')
        verified = etag == base64.b64decode(md5).hex()
        return ObjectInfo(
            key=key,
            size=size,
            modified_at=datetime.now(UTC),
            sha256=digest if verified else None,
            verified=verified,
        )

    async def _put_parts(
        self, key: str, name: str, source: Path, size: int, metadata: dict[str, str]
    ) -> None:
        bucket = self._settings.bucket
        with self._errors(f"start storing {key}"):
            upload = await self.client.create_multipart_upload(
                Bucket=bucket, Key=name, Metadata=metadata
            )
        upload_id = upload["UploadId"]
        part_size = self._settings.part_size_bytes
        offsets = list(range(0, size, part_size))
        etags: dict[int, str] = {}
        # A few parts in flight at once: each waits mostly on the network, and memory holds
        # at most ``part_concurrency`` parts.
        slots = asyncio.Semaphore(self._part_concurrency)

        async def send(number: int, offset: int) -> None:
            async with slots:
                length = min(part_size, size - offset)
                body, md5 = await asyncio.to_thread(_read_part, source, offset, length)
                with self._errors(f"store part {number} of {key}"):
                    part = await self.client.upload_part(
                        Bucket=bucket,
                        Key=name,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=body,
                        ContentMD5=md5,
                    )
                etags[number] = part["ETag"]

        try:
            await _all_or_first_error(
                [send(number, offset) for number, offset in enumerate(offsets, start=1)]
            )
            with self._errors(f"finish storing {key}"):
                await self.client.complete_multipart_upload(
                    Bucket=bucket,
                    Key=name,
                    UploadId=upload_id,
                    MultipartUpload={
                        "Parts": [
                            {"ETag": etags[number], "PartNumber": number}
                            for number in sorted(etags)
                        ]
                    },
                )
        except BaseException:
            # Parts of an unfinished upload cost space until aborted; if the store is down,
            # its own lifecycle rule has to (README: AbortIncompleteMultipartUpload).
            with contextlib.suppress(BotoCoreError, ClientError, aiohttp.ClientError):
                await asyncio.shield(
                    self.client.abort_multipart_upload(Bucket=bucket, Key=name, UploadId=upload_id)
                )
            raise

    async def read(self, key: str, start: int = 0, end: int | None = None) -> ByteStream:
        """The bytes ``[start, end)`` of the object, fetched with one ranged GET."""
        check_range(start, end)
        name = self._object_key(key)
        if end is not None and end == start:
            info = await self._require(key)
            return empty_stream(min(start, info.size), info.size)
        request: dict[str, Any] = {"Bucket": self._settings.bucket, "Key": name}
        if start > 0 or end is not None:
            request["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        with self._errors(f"read {key}", key=key):
            try:
                response = await self.client.get_object(**request)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "InvalidRange":
                    raise
                response = None  # the range starts at or past the end of the object
        if response is None:
            info = await self._require(key)
            return empty_stream(min(start, info.size), info.size)
        length = response["ContentLength"]
        first, total = start, length
        match = _CONTENT_RANGE.fullmatch(response.get("ContentRange", ""))
        if match:
            first, total = int(match[1]), int(match[3])
        return ByteStream(
            self._chunks(key, response["Body"]), start=first, length=length, total=total
        )

    async def _chunks(self, key: str, body: Any) -> AsyncGenerator[bytes, None]:
        try:
            with self._errors(f"read {key}"):
                async for chunk in body.iter_chunks(self._chunk_bytes):
                    yield chunk
        finally:
            body.close()

    async def _require(self, key: str) -> ObjectInfo:
        info = await self.head(key)
        if info is None:
            raise NotFoundError(f"There is no object {key} in the {self._settings.where}.")
        return info

    async def head(self, key: str) -> ObjectInfo | None:
        """The object's size and time, or None."""
        response = await self._head(key)
        if response is None:
            return None
        return ObjectInfo(
            key=key,
            size=response["ContentLength"],
            modified_at=response["LastModified"],
            sha256=response.get("Metadata", {}).get(SHA256_METADATA),
        )

    async def checksum(self, key: str) -> str | None:
        """The SHA-256 stored with the object when callrec uploaded it, or None."""
        response = await self._head(key)
        if response is None:
            return None
        value: str | None = response.get("Metadata", {}).get(SHA256_METADATA)
        return value

    async def _head(self, key: str) -> Any:
        name = self._object_key(key)
        try:
            with self._errors(f"look up {key}", key=key):
                return await self.client.head_object(Bucket=self._settings.bucket, Key=name)
        except NotFoundError:
            return None

    async def delete(self, key: str) -> None:
        """Remove the object (S3 answers the same whether it was there or not)."""
        name = self._object_key(key)
        with self._errors(f"delete {key}"):
            await self.client.delete_object(Bucket=self._settings.bucket, Key=name)

    async def delete_many(self, keys: Iterable[str]) -> int:
        """Remove the objects, a thousand per request, a few requests at a time."""
        size = self._delete_batch_size
        if isinstance(keys, Sequence) and keys:
            # A short list (a purge batch's 1 500 keys) is spread over the requests that may
            # run at once rather than sent as one full request and a remainder.
            size = min(size, -(-len(keys) // self._delete_concurrency))
        handled = 0
        running: set[asyncio.Task[int]] = set()
        try:
            for batch in _batches(keys, size):
                if len(running) >= self._delete_concurrency:
                    done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                    handled += sum(task.result() for task in done)
                running.add(asyncio.create_task(self._delete_batch(batch)))
            if running:
                done, running = await asyncio.wait(running)
                handled += sum(task.result() for task in done)
        finally:
            for task in running:
                task.cancel()
            if running:
                await asyncio.wait(running)
        return handled

    async def _delete_batch(self, keys: list[str]) -> int:
        with self._errors(f"delete {len(keys)} objects"):
            response = await self.client.delete_objects(
                Bucket=self._settings.bucket,
                Delete={
                    "Objects": [{"Key": self._object_key(key)} for key in keys],
                    "Quiet": True,  # only failures are listed in the answer
                },
            )
        errors = response.get("Errors", [])
        if errors:
            first = errors[0]
            raise StorageError(
                f"The {self._settings.where} did not delete {len(errors)} of {len(keys)} "
                f"objects, {first.get('Key', '?')} first ({first.get('Code', 'no reason')})."
            )
        return len(keys)

    async def objects(
        self, prefix: str = "", *, start_after: str = ""
    ) -> AsyncGenerator[ObjectInfo, None]:
        """Every object whose key starts with ``prefix`` (and sorts after ``start_after``),
        a page of up to 1000 at a time."""
        check_prefix(prefix)
        paginator = self.client.get_paginator("list_objects_v2")
        after: dict[str, Any] = {"StartAfter": self._prefix + start_after} if start_after else {}
        pages = paginator.paginate(
            Bucket=self._settings.bucket,
            Prefix=self._prefix + prefix,
            PaginationConfig={"PageSize": self._page_size},
            **after,
        )
        with self._errors(f"list {prefix or 'the bucket'}"):
            async for page in pages:
                for item in page.get("Contents", []):
                    yield ObjectInfo(
                        key=item["Key"].removeprefix(self._prefix),
                        size=item["Size"],
                        modified_at=item["LastModified"],
                    )

    def _errors(self, doing: str, *, key: str = "") -> contextlib.AbstractContextManager[None]:
        """Inside the block, the client's exceptions become callrec's naming this bucket."""
        return translated(self._settings.where, doing, key)


def _prepare(
    source: Path, part_bytes: int, sha256: str | None
) -> tuple[int, str, tuple[io.BytesIO, str] | None]:
    """The file's size and SHA-256 and, if it goes in one PUT, its body and Content-MD5
    (read once for both); blocking."""
    size = source.stat().st_size
    if size > part_bytes:
        return size, sha256 or file_sha256(source), None
    body, md5 = _read_part(source, 0, size)
    if sha256 is None:
        with body.getbuffer() as view:
            sha256 = hashlib.sha256(view).hexdigest()
    return size, sha256, (body, md5)


def _read_part(source: Path, offset: int, length: int) -> tuple[io.BytesIO, str]:
    """``length`` bytes of ``source`` from ``offset``, as a body ready to send, and their
    Content-MD5; blocking."""
    with source.open("rb") as file:
        file.seek(offset)
        data = file.read(length)
    if len(data) != length:
        raise StorageError(f"The file {source} shrank while it was being stored.")
    # MD5 here is S3's integrity check on the wire (Content-MD5), not a security measure.
    md5 = hashlib.md5(data, usedforsecurity=False).digest()
    # A buffer of its own, filled here: a BytesIO made from bytes shares them, and the HTTP
    # client's first look at it (getbuffer) would copy all of it in the event loop.
    body = io.BytesIO()
    body.write(data)
    body.seek(0)
    return body, base64.b64encode(md5).decode("ascii")


def _batches(keys: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for key in keys:
        batch.append(key)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def _all_or_first_error(jobs: list[Any]) -> None:
    """Run the coroutines together; on the first failure cancel the rest and raise it."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        for task in asyncio.as_completed(tasks):
            await task
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
