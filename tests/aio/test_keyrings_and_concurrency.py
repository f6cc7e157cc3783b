"""The asyncio client's keyrings (native aiobotocore KMS, a sync KMS client or keyring in a thread), its data-key
cache (one KMS call for many concurrent tasks), many tasks on one client, and the ways to create it."""

from __future__ import annotations

import asyncio
import collections
import os
import threading
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from s3_encryption import S3EncryptionClient, S3EncryptionClientConfig
from s3_encryption.materials.kms_keyring import KmsKeyring as PeerKmsKeyring

import s3crypt
import s3crypt.aio
from s3crypt.aio.session import aiobotocore_session_of

pytestmark = pytest.mark.integration


def kms_counter(kms_client: Any) -> collections.Counter[str]:
    calls: collections.Counter[str] = collections.Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    kms_client.meta.events.register("before-call.kms", count)
    return calls


async def test_the_kms_client_s3crypt_creates_is_aiobotocore_and_closes(
    connection: dict[str, Any], kms_endpoint: str, http_key: str, bucket: str
) -> None:
    async with s3crypt.aio.create_client("s3", kms_key_id=http_key, **connection) as s3:
        kms = await s3._s3crypt_resources.kms()
        calls = kms_counter(kms)
        await s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        assert await (await s3.get_object(Bucket=bucket, Key="k"))["Body"].read() == b"x"
        assert calls == {"GenerateDataKey": 1, "Decrypt": 1}
        assert s3.encryption_stats.kms_calls == 2


async def test_concurrent_misses_make_one_kms_call(
    connection: dict[str, Any], kms_endpoint: str, http_key: str, bucket: str
) -> None:
    cache = s3crypt.DataKeyCache()
    async with s3crypt.aio.Session().create_client("s3", kms_key_id=http_key, data_key_cache=cache, **connection) as s3:
        calls = kms_counter(await s3._s3crypt_resources.kms())
        bodies = {f"k{i}": os.urandom(i) for i in range(200)}
        await asyncio.gather(*(s3.put_object(Bucket=bucket, Key=k, Body=b) for k, b in bodies.items()))
        cache.clear()  # reads miss again: 200 concurrent reads of objects under one data key

        async def read(key: str) -> bytes:
            data: bytes = await (await s3.get_object(Bucket=bucket, Key=key))["Body"].read()
            return data

        got = await asyncio.gather(*(read(key) for key in bodies))
        assert dict(zip(bodies, got, strict=True)) == bodies
        assert calls == {"GenerateDataKey": 1, "Decrypt": 1}
        assert (s3.encryption_stats.cache_misses, s3.encryption_stats.cache_hits) == (2, 398)


async def test_one_cache_serves_sync_and_async_clients(
    connection: dict[str, Any], kms_endpoint: str, http_key: str, http_kms: Any, bucket: str
) -> None:
    cache = s3crypt.DataKeyCache()
    sync = s3crypt.client("s3", kms_key_id=http_key, data_key_cache=cache, **connection)
    sync.put_object(Bucket=bucket, Key="sync", Body=b"s")
    async with s3crypt.aio.create_client("s3", kms_key_id=http_key, data_key_cache=cache, **connection) as s3:
        await s3.put_object(Bucket=bucket, Key="async", Body=b"a")
        assert s3.encryption_stats.cache_hits == 1  # the sync client's data key, same key and endpoint
        assert await (await s3.get_object(Bucket=bucket, Key="sync"))["Body"].read() == b"s"
    assert sync.get_object(Bucket=bucket, Key="async")["Body"].read() == b"a"


async def test_a_sync_kms_client_runs_off_the_loop(
    connection: dict[str, Any], http_kms: Any, http_key: str, bucket: str
) -> None:
    threads: list[str] = []
    http_kms.meta.events.register("before-call.kms", lambda **_: threads.append(threading.current_thread().name))
    keyring = s3crypt.KmsKeyring(http_key, kms_client=http_kms)
    async with s3crypt.aio.create_client("s3", keyring=keyring, **connection) as s3:
        await s3.put_object(Bucket=bucket, Key="k", Body=b"x", EncryptionContext={"a": "b"})
        got = await s3.get_object(Bucket=bucket, Key="k", EncryptionContext={"a": "b"})
        assert await got["Body"].read() == b"x"
    assert len(threads) == 2
    assert threading.main_thread().name not in threads


@pytest.mark.parametrize(
    "keyring",
    [
        s3crypt.AesKeyring(os.urandom(32), material_description={"k": "aes"}),
        s3crypt.RsaKeyring(private_key=rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    ],
    ids=["aes", "rsa"],
)
async def test_raw_keyrings(connection: dict[str, Any], bucket: str, keyring: s3crypt.Keyring) -> None:
    async with s3crypt.aio.create_client("s3", keyring=keyring, **connection) as s3:
        await s3.put_object(Bucket=bucket, Key="k", Body=b"raw")
        assert await (await s3.get_object(Bucket=bucket, Key="k"))["Body"].read() == b"raw"
    sync = s3crypt.client("s3", keyring=keyring, **connection)
    assert sync.get_object(Bucket=bucket, Key="k")["Body"].read() == b"raw"


async def test_discovery_reads_and_refuses_to_write(
    connection: dict[str, Any], kms_endpoint: str, http_s3c: Any, bucket: str
) -> None:
    http_s3c.put_object(Bucket=bucket, Key="k", Body=b"found")
    async with s3crypt.aio.create_client("s3", keyring=s3crypt.KmsKeyring.discovery(), **connection) as s3:
        assert await (await s3.get_object(Bucket=bucket, Key="k"))["Body"].read() == b"found"
        with pytest.raises(s3crypt.ConfigurationError, match="only decrypts"):
            await s3.put_object(Bucket=bucket, Key="new", Body=b"x")


async def test_the_official_client_reads_ours_and_we_read_its(
    aio_s3c: Any, connection: dict[str, Any], http_kms: Any, http_key: str, bucket: str
) -> None:
    peer = S3EncryptionClient(
        boto3.client("s3", **connection), S3EncryptionClientConfig(keyring=PeerKmsKeyring(http_kms, http_key))
    )
    body = os.urandom(3 * 1024 * 1024)
    await aio_s3c.put_object(Bucket=bucket, Key="ours", Body=body, EncryptionContext={"t": "1"})
    assert peer.get_object(Bucket=bucket, Key="ours", EncryptionContext={"t": "1"})["Body"].read() == body
    peer.put_object(Bucket=bucket, Key="theirs", Body=body[:1000], EncryptionContext={"t": "2"})
    got = await aio_s3c.get_object(Bucket=bucket, Key="theirs", EncryptionContext={"t": "2"})
    assert await got["Body"].read() == body[:1000]


async def test_the_session_of_an_aioboto3_session() -> None:
    """aioboto3 keeps its aiobotocore session in the private ``_session``: this fails loudly if it moves."""
    aioboto3 = pytest.importorskip("aioboto3")
    session = aioboto3.Session(region_name="us-east-1")
    assert aiobotocore_session_of(session) is session._session
    assert s3crypt.aio.Session.from_aioboto3(session).aiobotocore_session is session._session


def test_anything_else_is_not_an_aioboto3_session() -> None:
    with pytest.raises(s3crypt.ConfigurationError, match=r"aioboto3\.Session"):
        s3crypt.aio.Session.from_aioboto3(object())


async def test_plain_clients_of_the_same_session_stay_plain(connection: dict[str, Any], http_key: str) -> None:
    session = s3crypt.aio.Session()
    async with (
        session.create_client("s3", kms_key_id=http_key, **connection) as s3,
        session.aiobotocore_session.create_client("s3", **connection) as plain,
    ):
        assert isinstance(s3, s3crypt.EncryptionClient)
        assert not isinstance(plain, s3crypt.EncryptionClient)


def test_only_s3_and_exactly_one_keyring() -> None:
    with pytest.raises(s3crypt.ConfigurationError, match="S3 objects only"):
        s3crypt.aio.create_client("kms", kms_key_id="k")
    with pytest.raises(s3crypt.ConfigurationError, match="exactly one"):
        s3crypt.aio.create_client("s3")
