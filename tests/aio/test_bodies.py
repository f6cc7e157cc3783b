"""The asyncio get's body: its ciphertext read ahead while KMS answers, and decrypted on the loop as it streams."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

import s3crypt.aio
from s3crypt.aio.prefetch import Prefetched

pytestmark = pytest.mark.integration
MIB = 1024 * 1024


async def test_the_chunks_read_ahead_are_served_first_and_stop_at_the_limit(aio_plain: Any, bucket: str) -> None:
    data = os.urandom(3 * MIB)
    await aio_plain.put_object(Bucket=bucket, Key="k", Body=data)
    body = Prefetched((await aio_plain.get_object(Bucket=bucket, Key="k"))["Body"])
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    await body.read_while(never, MIB)  # KMS has not answered: it reads on, up to the limit
    first = await body.read(100)
    rest = await body.read()
    await body.aclose()

    assert first + rest == data
    assert len(first) == 100


async def test_nothing_is_read_ahead_once_the_key_is_there(aio_plain: Any, bucket: str) -> None:
    await aio_plain.put_object(Bucket=bucket, Key="k", Body=b"x" * 1000)
    body = Prefetched((await aio_plain.get_object(Bucket=bucket, Key="k"))["Body"])
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    done.set_result(None)

    await body.read_while(done, MIB)

    assert not body._chunks
    assert await body.read() == b"x" * 1000


@pytest.mark.parametrize("delayed", [False, True])
async def test_a_get_on_the_loop_releases_every_size_read(
    connection: dict[str, Any], kms_endpoint: str, http_key: str, bucket: str, delayed: bool
) -> None:
    data = os.urandom(3 * MIB + 5)
    options = {"enable_delayed_authentication": delayed}
    async with s3crypt.aio.create_client("s3", kms_key_id=http_key, **connection, **options) as s3:
        await s3.put_object(Bucket=bucket, Key="k", Body=data)
        response = await s3.get_object(Bucket=bucket, Key="k")
        async with response["Body"] as body:
            parts = [await body.read(1), await body.read(MIB + 7), await body.read(0)]
            parts += [chunk async for chunk in body.iter_chunks(777_777)]
            assert body.tell() == len(data)
    assert b"".join(parts) == data
    assert len(parts[0]) == 1
    assert 0 < len(parts[1]) <= MIB + 7  # a read may be short, as aiobotocore's are
    assert parts[2] == b""
    assert all(len(chunk) <= 777_777 for chunk in parts[3:])
