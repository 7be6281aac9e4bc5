"""The S3 store on a real SeaweedFS server: prefixes, pages, batches, and failures in one
sentence naming the bucket and endpoint."""

from __future__ import annotations

import base64
import hashlib
import secrets
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from callrec_ari.errors import StorageError, StorageUnavailableError
from callrec_ari.storage.s3 import S3Store
from tests.storage.conftest import BUCKET
from tests.support.postgres import free_port
from tests.support.seaweedfs import SECRET_KEY, counted_requests

KEY = "2026/12/02/call.wav"


def source(tmp_path: Path, data: bytes = b"audio bytes") -> Path:
    path = tmp_path / f"src-{secrets.token_hex(4)}"
    path.write_bytes(data)
    return path


async def test_keys_live_under_the_configured_prefix(seaweed, aio_session, tmp_path):
    """The object is stored as <prefix><key>; a store with another prefix does not see it."""
    prefix = f"node-{secrets.token_hex(4)}/"
    async with S3Store(seaweed.settings(BUCKET, prefix=prefix), session=aio_session) as store:
        await store.put(KEY, source(tmp_path))
        assert [info.key async for info in store.objects()] == [KEY]
    raw = seaweed.client().head_object(Bucket=BUCKET, Key=prefix + KEY)
    assert raw["ContentLength"] == len(b"audio bytes")
    assert raw["Metadata"]["sha256"]
    other = seaweed.settings(BUCKET, prefix=f"node-{secrets.token_hex(4)}/")
    async with S3Store(other, session=aio_session) as neighbour:
        assert await neighbour.head(KEY) is None
        assert [info async for info in neighbour.objects()] == []


async def test_a_single_put_is_confirmed_by_the_store_itself(seaweed, aio_session, tmp_path):
    """The store checks the body against the Content-MD5 sent with it (a body that does not
    match is refused), so a PUT whose ETag is that MD5 confirms the size and SHA-256 without a
    second request; a multipart upload is not vouched for this way."""
    part = 5 * 1024 * 1024  # S3's smallest part
    data = secrets.token_bytes(part + 1000)
    settings = seaweed.settings(BUCKET, prefix=f"md5-{secrets.token_hex(4)}/", part_size_bytes=part)
    async with S3Store(settings, session=aio_session) as store:
        small = await store.put(KEY, source(tmp_path, data[:1000]))
        assert (small.verified, small.size) == (True, 1000)
        assert small.sha256 == hashlib.sha256(data[:1000]).hexdigest()
        assert (await store.head(KEY)) is not None
        large = await store.put("2026/12/02/large.wav", source(tmp_path, data))
        assert (large.verified, large.sha256) == (False, None)
    wrong = base64.b64encode(hashlib.md5(b"other bytes", usedforsecurity=False).digest()).decode()
    with pytest.raises(ClientError, match="BadDigest"):
        seaweed.client().put_object(
            Bucket=BUCKET, Key=f"md5-{secrets.token_hex(4)}", Body=data[:1000], ContentMD5=wrong
        )


async def test_listing_follows_the_pages(seaweed, aio_session, tmp_path):
    """With two keys a page, seven objects still list as seven."""
    settings = seaweed.settings(BUCKET, prefix=f"pages-{secrets.token_hex(4)}/")
    async with S3Store(settings, session=aio_session, page_size=2) as store:
        keys = [f"2026/12/02/{index}.wav" for index in range(7)]
        for key in keys:
            await store.put(key, source(tmp_path))
        assert sorted([info.key async for info in store.objects("2026/")]) == keys


async def test_a_batch_delete_spans_several_requests(seaweed, aio_session, tmp_path):
    """Twenty keys in batches of seven (three requests, two at a time) are all removed."""
    settings = seaweed.settings(BUCKET, prefix=f"batch-{secrets.token_hex(4)}/")
    async with S3Store(
        settings, session=aio_session, delete_batch=7, delete_concurrency=2
    ) as store:
        keys = [f"2026/12/02/{index:02d}.wav" for index in range(20)]
        for key in keys:
            await store.put(key, source(tmp_path))
        assert await store.delete_many(iter(keys)) == 20
        assert [info async for info in store.objects()] == []


async def test_a_short_list_of_keys_is_spread_over_the_requests_run_at_once(
    seaweed, aio_session, tmp_path
):
    """Twenty keys with room for 1 000 a request go as four requests of five (they run
    together), not one; a key stream of unknown length is still sent in full batches."""
    settings = seaweed.settings(BUCKET, prefix=f"spread-{secrets.token_hex(4)}/")
    async with S3Store(settings, session=aio_session, delete_concurrency=4) as store:
        keys = [f"2026/12/02/{index:02d}.wav" for index in range(20)]
        for key in keys:
            await store.put(key, source(tmp_path))
        sent = counted_requests(store.client)
        assert await store.delete_many(keys) == 20
        assert sent == {"DeleteObjects": 4}
        assert [info async for info in store.objects()] == []
        for key in keys:
            await store.put(key, source(tmp_path))
        sent.clear()
        assert await store.delete_many(iter(keys)) == 20
        assert sent == {"DeleteObjects": 1}


async def test_refused_credentials_are_one_sentence_naming_the_bucket(
    seaweed, aio_session, tmp_path
):
    """A wrong secret: every call raises StorageError naming bucket and endpoint, not the secret."""
    settings = seaweed.settings(BUCKET, secret_access_key="not-the-secret-at-all")
    async with S3Store(settings, session=aio_session, max_attempts=1) as store:
        for attempt in (
            store.put(KEY, source(tmp_path)),
            store.read(KEY),
            store.delete(KEY),
            store.check(),
        ):
            with pytest.raises(StorageError) as caught:
                await attempt
            message = str(caught.value)
            assert message.startswith(f"The bucket {BUCKET} at {seaweed.endpoint_url}")
            assert "refused callrec's credentials" in message
            assert "not-the-secret" not in message
            assert SECRET_KEY not in message
            assert not isinstance(caught.value, StorageUnavailableError)


async def test_an_unknown_access_key_is_named_as_such(seaweed, aio_session, tmp_path):
    """An access key the store does not know: the store's own code ends the sentence."""
    settings = seaweed.settings(BUCKET, access_key_id="AKIDUNKNOWN")
    async with S3Store(settings, session=aio_session, max_attempts=1) as store:
        with pytest.raises(StorageError, match=r"credentials \(InvalidAccessKeyId\)\.$"):
            await store.put(KEY, source(tmp_path))


async def test_a_missing_bucket_says_so(seaweed, aio_session, tmp_path):
    """A bucket that does not exist is named, with its endpoint."""
    settings = seaweed.settings("no-such-bucket")
    async with S3Store(settings, session=aio_session, max_attempts=1) as store:
        for attempt in (store.put(KEY, source(tmp_path)), store.check()):
            with pytest.raises(StorageError) as caught:
                await attempt
            assert str(caught.value) == (
                f"The bucket no-such-bucket at {seaweed.endpoint_url} does not exist."
            )


async def test_an_unreachable_store_is_unavailable_not_refused(seaweed, aio_session, tmp_path):
    """Nothing listening at the endpoint: StorageUnavailableError (worth retrying), one line."""
    endpoint = f"http://127.0.0.1:{free_port()}"
    settings = seaweed.settings(BUCKET, endpoint_url=endpoint, timeout_seconds=1.0)
    async with S3Store(settings, session=aio_session, max_attempts=1) as store:
        with pytest.raises(StorageUnavailableError) as caught:
            await store.put(KEY, source(tmp_path))
        assert str(caught.value) == (
            f"The bucket {BUCKET} at {endpoint} cannot be reached (no connection)."
        )
        with pytest.raises(StorageUnavailableError):
            await store.head(KEY)
