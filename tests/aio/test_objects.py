"""The asyncio client's objects: put and get (authenticated by default), instruction files, deletes, the
multipart API, and objects shared with the sync client."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

import s3crypt
import s3crypt.aio

pytestmark = pytest.mark.integration
BIG = 3 * 1024 * 1024 + 7  # past the size read whole before get_object returns


async def test_is_the_aiobotocore_s3_class_with_the_mixin(aio_s3c: Any, aio_plain: Any) -> None:
    assert isinstance(aio_s3c, s3crypt.EncryptionClient)
    assert isinstance(aio_s3c, s3crypt.aio.AioEncryptionClient)
    assert type(aio_s3c).__name__ == type(aio_plain).__name__ == "S3"
    assert not isinstance(aio_plain, s3crypt.EncryptionClient)


@pytest.mark.parametrize("size", [0, 17, BIG])
async def test_round_trip_stores_ciphertext(aio_s3c: Any, aio_plain: Any, bucket: str, size: int) -> None:
    body = os.urandom(size)
    await aio_s3c.put_object(Bucket=bucket, Key="k", Body=body, EncryptionContext={"tenant": "42"})
    stored = await aio_plain.get_object(Bucket=bucket, Key="k")
    assert stored["ContentLength"] == size + 16
    assert await stored["Body"].read() != body
    got = await aio_s3c.get_object(Bucket=bucket, Key="k", EncryptionContext={"tenant": "42"})
    assert got["ContentLength"] == size
    async with got["Body"] as plaintext:
        assert await plaintext.read() == body


async def test_body_reads_as_aiobotocore_bodies_do(aio_s3c: Any, bucket: str) -> None:
    lines = b"".join(b"line %d\n" % i for i in range(400_000))  # over 3 MiB: decrypted in a worker thread
    await aio_s3c.put_object(Bucket=bucket, Key="lines", Body=lines)
    body = (await aio_s3c.get_object(Bucket=bucket, Key="lines"))["Body"]
    got = [line async for line in body.iter_lines()]
    assert got == lines.splitlines()
    body = (await aio_s3c.get_object(Bucket=bucket, Key="lines"))["Body"]
    assert await body.read(5) == b"line "
    assert body.tell() == 5
    rest = b"".join([chunk async for chunk in body.iter_chunks(70_000)])
    assert rest == lines[5:]
    body.close()  # sync, as s3fs calls it


async def test_a_tampered_object_releases_nothing(aio_s3c: Any, aio_plain: Any, bucket: str) -> None:
    for size in (100, BIG):
        await aio_s3c.put_object(Bucket=bucket, Key="t", Body=os.urandom(size))
        stored = await aio_plain.get_object(Bucket=bucket, Key="t")
        ciphertext = bytearray(await stored["Body"].read())
        ciphertext[size // 2] ^= 1
        head = await aio_plain.head_object(Bucket=bucket, Key="t")
        await aio_plain.put_object(Bucket=bucket, Key="t", Body=bytes(ciphertext), Metadata=head["Metadata"])
        body = (await aio_s3c.get_object(Bucket=bucket, Key="t"))["Body"]
        with pytest.raises(s3crypt.DecryptionError, match="no plaintext was released"):
            await body.read(1)


async def test_wrong_context_is_refused(aio_s3c: Any, bucket: str) -> None:
    await aio_s3c.put_object(Bucket=bucket, Key="k", Body=b"x", EncryptionContext={"tenant": "42"})
    with pytest.raises(s3crypt.DecryptionError, match="EncryptionContext does not match"):
        await aio_s3c.get_object(Bucket=bucket, Key="k", EncryptionContext={"tenant": "7"})


async def test_instruction_file_is_written_read_and_deleted(aio_s3c: Any, aio_plain: Any, bucket: str) -> None:
    body = os.urandom(BIG)
    await aio_s3c.put_object(Bucket=bucket, Key="i", Body=body, InstructionFile=True)
    listed = await aio_plain.list_objects_v2(Bucket=bucket)
    assert sorted(entry["Key"] for entry in listed["Contents"]) == ["i", "i.instruction"]
    assert await (await aio_s3c.get_object(Bucket=bucket, Key="i"))["Body"].read() == body
    await aio_s3c.delete_object(Bucket=bucket, Key="i")
    assert "Contents" not in await aio_plain.list_objects_v2(Bucket=bucket)


async def test_delete_objects_takes_the_instruction_files(aio_s3c: Any, aio_plain: Any, bucket: str) -> None:
    for key in ("a", "b"):
        await aio_s3c.put_object(Bucket=bucket, Key=key, Body=b"x", InstructionFile=True)
    await aio_s3c.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}]})
    assert "Contents" not in await aio_plain.list_objects_v2(Bucket=bucket)


@pytest.mark.parametrize("mark_last", [True, False])
async def test_multipart_upload(aio_s3c: Any, bucket: str, mark_last: bool) -> None:
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(5 * 1024 * 1024 if not mark_last else 1000)]
    upload_id = (await aio_s3c.create_multipart_upload(Bucket=bucket, Key="mp", InstructionFile=True))["UploadId"]
    listed = []
    for number, part in enumerate(parts, 1):
        last = {"IsLastPart": number == len(parts)} if mark_last else {}
        sent = await aio_s3c.upload_part(
            Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=number, Body=part, **last
        )
        listed.append({"ETag": sent["ETag"], "PartNumber": number})
    await aio_s3c.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": listed}
    )
    got = await aio_s3c.get_object(Bucket=bucket, Key="mp")
    assert await got["Body"].read() == b"".join(parts)


async def test_parts_out_of_order_are_refused(aio_s3c: Any, bucket: str) -> None:
    upload_id = (await aio_s3c.create_multipart_upload(Bucket=bucket, Key="mp"))["UploadId"]
    with pytest.raises(s3crypt.ConfigurationError, match="out of order"):
        await aio_s3c.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=2, Body=b"x")
    await aio_s3c.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id)


async def test_sync_and_async_clients_read_each_other(aio_s3c: Any, http_s3c: Any, bucket: str) -> None:
    ours, theirs = os.urandom(BIG), os.urandom(1000)
    await aio_s3c.put_object(Bucket=bucket, Key="async", Body=ours, InstructionFile=True)
    http_s3c.put_object(Bucket=bucket, Key="sync", Body=theirs, EncryptionContext={"a": "b"})
    assert http_s3c.get_object(Bucket=bucket, Key="async")["Body"].read() == ours
    got = await aio_s3c.get_object(Bucket=bucket, Key="sync", EncryptionContext={"a": "b"})
    assert await got["Body"].read() == theirs


async def test_refusals_of_the_sync_client_hold(aio_s3c: Any, bucket: str) -> None:
    with pytest.raises(s3crypt.ConfigurationError, match="ranged get cannot be authenticated"):
        await aio_s3c.get_object(Bucket=bucket, Key="k", Range="bytes=1-2")
    with pytest.raises(s3crypt.ConfigurationError, match="reserved for the encryption envelope"):
        await aio_s3c.put_object(Bucket=bucket, Key="k", Body=b"x", Metadata={"x-amz-key-v2": "x"})


async def test_rewrap_object_moves_the_data_key_to_another_kms_key(
    aio_s3c: Any, connection: dict[str, Any], http_kms: Any, bucket: str
) -> None:
    new_key = http_kms.create_key()["KeyMetadata"]["KeyId"]
    await aio_s3c.put_object(Bucket=bucket, Key="k", Body=b"rotated", EncryptionContext={"a": "1"})
    await aio_s3c.rewrap_object(
        Bucket=bucket, Key="k", new_keyring=s3crypt.KmsKeyring(new_key), EncryptionContext={"a": "1"}
    )
    async with s3crypt.aio.create_client("s3", kms_key_id=new_key, **connection) as reader:
        got = await reader.get_object(Bucket=bucket, Key="k", EncryptionContext={"a": "1"})
        assert await got["Body"].read() == b"rotated"


async def test_a_large_authenticated_read_spools_without_stalling_the_loop(
    connection: dict[str, Any], kms_endpoint: str, http_key: str, bucket: str
) -> None:
    body = os.urandom(40 * 1024 * 1024)
    options = {"decrypt_memory_limit": 1024 * 1024}
    async with s3crypt.aio.create_client("s3", kms_key_id=http_key, **options, **connection) as s3:
        await s3.put_object(Bucket=bucket, Key="big", Body=body)
        stalls: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:
            loop = asyncio.get_running_loop()
            while not done.is_set():
                before = loop.time()
                await asyncio.sleep(0.005)
                stalls.append(loop.time() - before - 0.005)

        ticking = asyncio.create_task(ticker())
        response = await s3.get_object(Bucket=bucket, Key="big")
        assert await response["Body"].read(10) == body[:10]  # the whole object was authenticated first
        rest = b"".join([chunk async for chunk in response["Body"].iter_chunks(1024 * 1024)])
        done.set()
        await ticking
    assert body[10:] == rest
    assert max(stalls) < 0.25  # the spooling and decryption of 40 MiB ran off the loop


@pytest.mark.parametrize("size", [17, BIG])
async def test_the_httpx_backend(
    connection: dict[str, Any], kms_endpoint: str, http_key: str, bucket: str, size: int
) -> None:
    pytest.importorskip("httpx2")
    from aiobotocore.config import AioConfig
    from aiobotocore.httpxsession import HttpxSession

    body = os.urandom(size)
    options = dict(connection)
    config = AioConfig(http_session_cls=HttpxSession)
    if "config" in options:  # the target's own settings (RGW over HTTPS: checksums when required)
        config = config.merge(options.pop("config"))
    async with s3crypt.aio.create_client("s3", kms_key_id=http_key, config=config, **options) as s3:
        await s3.put_object(Bucket=bucket, Key="k", Body=body)
        upload_id = (await s3.create_multipart_upload(Bucket=bucket, Key="mp"))["UploadId"]
        part = await s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=body)
        parts = {"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]}
        await s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload=parts)
        for key in ("k", "mp"):
            assert await (await s3.get_object(Bucket=bucket, Key=key))["Body"].read() == body
