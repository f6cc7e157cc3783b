"""The data-key cache: KMS calls per object with and without it, its limits, its isolation, its threads."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import logging
import threading
from typing import Any

import pytest

import s3crypt
from s3crypt.testing import TEST_REGION
from tests.conftest import BUCKET, V2_OPTIONS


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def cached_client(keyring: s3crypt.Keyring, cache: s3crypt.DataKeyCache) -> Any:
    return s3crypt.client("s3", keyring=keyring, region_name=TEST_REGION, data_key_cache=cache)


def put_many(client: Any, count: int, context: dict[str, str] | None = None, body: bytes = b"x" * 1024) -> None:
    for i in range(count):
        client.put_object(Bucket=BUCKET, Key=f"o/{i}", Body=body, EncryptionContext=context or {})


def test_without_a_cache_every_object_costs_one_call(s3c: Any, kms_calls: Any) -> None:
    put_many(s3c, 5)
    for i in range(5):
        s3c.get_object(Bucket=BUCKET, Key=f"o/{i}")["Body"].read()
    assert kms_calls == {"GenerateDataKey": 5, "Decrypt": 5}
    assert (s3c.encryption_stats.kms_calls, s3c.encryption_stats.cache_hits) == (10, 0)


def test_one_data_key_serves_many_objects_each_with_its_own_message_id(
    plain_s3: Any, keyring: s3crypt.KmsKeyring, kms_calls: Any
) -> None:
    client = cached_client(keyring, s3crypt.DataKeyCache(max_messages=1000))
    put_many(client, 200)
    assert kms_calls == {"GenerateDataKey": 1}
    stored = [plain_s3.get_object(Bucket=BUCKET, Key=f"o/{i}") for i in range(200)]
    assert len({s["Metadata"]["x-amz-3"] for s in stored}) == 1  # one wrapped data key...
    assert len({s["Metadata"]["x-amz-i"] for s in stored}) == 200  # ...and 200 message ids,
    assert len({s["Body"].read() for s in stored}) == 200  # so 200 distinct ciphertexts of one plaintext
    for i in range(200):
        assert client.get_object(Bucket=BUCKET, Key=f"o/{i}")["Body"].read() == b"x" * 1024
    assert kms_calls == {"GenerateDataKey": 1, "Decrypt": 1}
    stats = client.encryption_stats
    assert (stats.kms_calls, stats.cache_misses, stats.cache_hits) == (2, 2, 398)


def test_the_message_limit(plain_s3: Any, keyring: s3crypt.KmsKeyring, kms_calls: Any) -> None:
    put_many(cached_client(keyring, s3crypt.DataKeyCache(max_messages=50)), 200)
    assert kms_calls == {"GenerateDataKey": 4}


def test_the_age_limit_with_a_clock(plain_s3: Any, keyring: s3crypt.KmsKeyring, kms_calls: Any) -> None:
    clock = FakeClock()
    client = cached_client(keyring, s3crypt.DataKeyCache(max_age_seconds=60, clock=clock))
    put_many(client, 3)
    clock.now += 59.9
    put_many(client, 3)
    assert kms_calls == {"GenerateDataKey": 1}
    clock.now += 0.1
    put_many(client, 3)
    assert kms_calls == {"GenerateDataKey": 2}


def test_the_byte_limit(plain_s3: Any, keyring: s3crypt.KmsKeyring, kms_calls: Any) -> None:
    client = cached_client(keyring, s3crypt.DataKeyCache(max_bytes=3000))
    put_many(client, 6, body=b"y" * 1000)  # 3000 bytes per key: keys serve objects 1-3 and 4-6
    assert kms_calls == {"GenerateDataKey": 2}


def test_distinct_contexts_never_share_a_key(plain_s3: Any, keyring: s3crypt.KmsKeyring, kms_calls: Any) -> None:
    client = cached_client(keyring, s3crypt.DataKeyCache())
    for tenant in ("a", "b", "a", "c", "b"):
        client.put_object(Bucket=BUCKET, Key=tenant, Body=b"t", EncryptionContext={"tenant": tenant})
    assert kms_calls == {"GenerateDataKey": 3}


def test_the_context_is_checked_for_every_object_and_failures_are_not_cached(
    plain_s3: Any, keyring: s3crypt.KmsKeyring, kms: Any, kms_calls: Any
) -> None:
    cache = s3crypt.DataKeyCache()
    client = cached_client(keyring, cache)
    client.put_object(Bucket=BUCKET, Key="k", Body=b"secret", EncryptionContext={"t": "1"})
    assert client.get_object(Bucket=BUCKET, Key="k", EncryptionContext={"t": "1"})["Body"].read() == b"secret"
    with pytest.raises(s3crypt.DecryptionError, match="EncryptionContext"):
        client.get_object(Bucket=BUCKET, Key="k", EncryptionContext={"t": "2"})
    other_key = s3crypt.KmsKeyring(kms.create_key()["KeyMetadata"]["KeyId"], kms_client=kms)
    wrong = cached_client(other_key, cache)
    for _ in range(2):
        with pytest.raises(s3crypt.DecryptionError):
            wrong.get_object(Bucket=BUCKET, Key="k", EncryptionContext={"t": "1"})
    assert kms_calls["Decrypt"] == 3  # one success, cached; two failures, each asked again


def test_clear_and_capacity(plain_s3: Any, keyring: s3crypt.KmsKeyring, kms_calls: Any) -> None:
    cache = s3crypt.DataKeyCache(capacity=16)
    client = cached_client(keyring, cache)
    for i in range(100):
        client.put_object(Bucket=BUCKET, Key="k", Body=b"x", EncryptionContext={"n": str(i)})
    assert len(cache) <= 16
    cache.clear()
    assert len(cache) == 0
    client.get_object(Bucket=BUCKET, Key="k", EncryptionContext={"n": "99"})
    client.get_object(Bucket=BUCKET, Key="k", EncryptionContext={"n": "99"})
    assert kms_calls["Decrypt"] == 1


def test_v2_and_a_cache_is_a_configuration_error(keyring: s3crypt.KmsKeyring) -> None:
    with pytest.raises(s3crypt.ConfigurationError, match="V3 suite"):
        s3crypt.client("s3", keyring=keyring, data_key_cache=s3crypt.DataKeyCache(), **V2_OPTIONS)
    with pytest.raises(s3crypt.ConfigurationError, match="max_messages"):
        s3crypt.DataKeyCache(max_messages=0)


def test_sixteen_threads_share_one_cache(plain_s3: Any, keyring: s3crypt.KmsKeyring, kms_calls: Any) -> None:
    cache = s3crypt.DataKeyCache(max_messages=10_000)
    clients = [cached_client(keyring, cache) for _ in range(2)]

    def work(worker: int) -> None:
        client = clients[worker % 2]
        for i in range(20):
            body = f"{worker}/{i}".encode()
            client.put_object(Bucket=BUCKET, Key=f"{worker}/{i}", Body=body, EncryptionContext={"app": "x"})
            assert (
                client.get_object(Bucket=BUCKET, Key=f"{worker}/{i}", EncryptionContext={"app": "x"})["Body"].read()
                == body
            )

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        for future in [pool.submit(work, worker) for worker in range(16)]:
            future.result()
    assert kms_calls == {"GenerateDataKey": 1, "Decrypt": 1}


def test_debug_logs_name_no_key(plain_s3: Any, keyring: s3crypt.KmsKeyring, caplog: pytest.LogCaptureFixture) -> None:
    client = cached_client(keyring, s3crypt.DataKeyCache())
    with caplog.at_level(logging.DEBUG):
        client.put_object(Bucket=BUCKET, Key="k", Body=b"x", EncryptionContext={"tenant": "t"})
        client.put_object(Bucket=BUCKET, Key="k2", Body=b"x", EncryptionContext={"tenant": "t"})
    assert "data-key cache hit" in caplog.text
    data_key = client._s3crypt_keyring.generate_data_key(  # the cached key the two puts used
        s3crypt.AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY, {"tenant": "t"}
    ).plaintext
    for form in (data_key.hex(), base64.b64encode(data_key).decode(), repr(data_key)):
        assert form not in caplog.text


def test_the_clients_config_holds_the_keyring_it_was_given(keyring: s3crypt.KmsKeyring) -> None:
    client = cached_client(keyring, s3crypt.DataKeyCache())
    assert client.encryption_config.keyring is keyring
    assert repr(client._s3crypt_keyring) == repr(keyring)  # the metering wrapper shows as the keyring it wraps


@pytest.mark.parametrize("capacity", [1, 5, 16, 1000])
def test_capacity_is_a_hard_limit(capacity: int) -> None:
    cache = s3crypt.DataKeyCache(capacity=capacity)
    data_key = s3crypt.DataKey(b"k" * 32, s3crypt.EncryptedDataKey("kms+context", b"w", {}))
    for i in range(capacity * 3):
        cache.use(("key", i), 0, lambda: data_key)
    assert 0 < len(cache) <= capacity


def test_expired_keys_leave_memory_when_their_shard_is_next_used() -> None:
    clock = FakeClock()
    cache = s3crypt.DataKeyCache(max_age_seconds=10, capacity=1000, clock=clock)
    data_key = s3crypt.DataKey(b"k" * 32, s3crypt.EncryptedDataKey("kms+context", b"w", {}))
    cache.use("old", 0, lambda: data_key)
    neighbour = next(f"new{i}" for i in range(10_000) if hash(f"new{i}") % 16 == hash("old") % 16)
    clock.now += 11
    cache.use(neighbour, 0, lambda: data_key)
    assert len(cache) == 1


def test_an_event_loop_awaits_a_threads_fetch_without_blocking_and_without_a_second_call() -> None:
    cache = s3crypt.DataKeyCache()
    data_key = s3crypt.DataKey(b"k" * 32, s3crypt.EncryptedDataKey("kms+context", b"w", {}))
    started, release = threading.Event(), threading.Event()

    def slow_fetch() -> s3crypt.DataKey:  # a sync client's KMS call, under way in a thread
        started.set()
        release.wait()
        return data_key

    async def second_call() -> s3crypt.DataKey:
        raise AssertionError("a second KMS call for a key being fetched")

    async def waiting_task() -> tuple[tuple[s3crypt.DataKey, bool], int]:
        waiter = asyncio.create_task(cache.use_async("key", 0, second_call))
        ticks = 0
        for _ in range(5):  # the loop keeps running while the thread's fetch is under way
            await asyncio.sleep(0.01)
            ticks += 1
        assert not waiter.done()
        release.set()
        return await waiter, ticks

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        fetched = pool.submit(cache.use, "key", 0, slow_fetch)
        started.wait()
        (got, hit), ticks = asyncio.run(waiting_task())
        assert fetched.result() == (data_key, False)
    assert (got, hit, ticks) == (data_key, True, 5)
