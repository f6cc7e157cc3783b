"""Faults on the asyncio client leave nothing behind: no orphaned multipart upload, no partial file, no object
written under a failed KMS call, and a cancelled transfer cleans up."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import EndpointConnectionError

import s3crypt
import s3crypt.aio

pytestmark = pytest.mark.integration
MIB = 1024 * 1024
PARTS = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=3)


async def nothing_left(plain: Any, bucket: str) -> bool:
    uploads = await plain.list_multipart_uploads(Bucket=bucket)
    objects = await plain.list_objects_v2(Bucket=bucket)
    return "Uploads" not in uploads and "Contents" not in objects


async def unhooked(client: Any) -> Any:
    """The client of s3crypt's own requests, which a managed upload sends its multipart calls through."""
    return await client._s3crypt_resources.unhooked()


def fail_part(client: Any, number: int) -> None:
    def fail(params: dict[str, Any], **_: Any) -> None:
        if params.get("PartNumber") == number:
            raise EndpointConnectionError(endpoint_url="injected")

    client.meta.events.register("provide-client-params.s3.UploadPart", fail)


@pytest.mark.parametrize("source", ["file", "stream"])
async def test_a_failed_part_aborts_the_upload(
    aio_s3c: Any, aio_plain: Any, bucket: str, tmp_path: Path, source: str
) -> None:
    path = tmp_path / "f"
    path.write_bytes(os.urandom(16 * MIB))
    fail_part(await unhooked(aio_s3c), 2)

    async def upload() -> None:
        if source == "file":
            await aio_s3c.upload_file(str(path), bucket, "k", Config=PARTS)
        else:
            with path.open("rb") as stream:
                await aio_s3c.upload_fileobj(stream, bucket, "k", Config=PARTS)

    with pytest.raises(EndpointConnectionError):
        await upload()
    assert await nothing_left(aio_plain, bucket)


async def test_a_cancelled_upload_is_aborted(aio_s3c: Any, aio_plain: Any, bucket: str, tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(os.urandom(30 * MIB))
    started = asyncio.Event()
    (await unhooked(aio_s3c)).meta.events.register("provide-client-params.s3.UploadPart", lambda **_: started.set())
    task = asyncio.create_task(aio_s3c.upload_file(str(path), bucket, "k", Config=PARTS))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await nothing_left(aio_plain, bucket)


async def test_a_tampered_download_leaves_no_file(aio_s3c: Any, aio_plain: Any, bucket: str, tmp_path: Path) -> None:
    await aio_s3c.put_object(Bucket=bucket, Key="k", Body=os.urandom(12 * MIB))
    stored = await aio_plain.get_object(Bucket=bucket, Key="k")
    ciphertext = bytearray(await stored["Body"].read())
    ciphertext[7 * MIB] ^= 1
    await aio_plain.put_object(Bucket=bucket, Key="k", Body=bytes(ciphertext), Metadata=stored["Metadata"])
    with pytest.raises(s3crypt.DecryptionError):
        await aio_s3c.download_file(bucket, "k", str(tmp_path / "out"), Config=PARTS)
    assert list(tmp_path.iterdir()) == []


async def test_a_download_round_trip_is_atomic(aio_s3c: Any, bucket: str, tmp_path: Path) -> None:
    body = os.urandom(12 * MIB + 3)
    await aio_s3c.upload_fileobj(_Reader(body), bucket, "k", Config=PARTS)
    target = tmp_path / "out"
    await aio_s3c.download_file(bucket, "k", str(target), Config=PARTS)
    assert target.read_bytes() == body
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


async def test_a_kms_failure_writes_nothing(
    connection: dict[str, Any], kms_endpoint: str, aio_plain: Any, bucket: str
) -> None:
    async with s3crypt.aio.create_client("s3", kms_key_id="alias/no-such-key", **connection) as s3:
        with pytest.raises(s3crypt.EncryptionError, match="nothing was uploaded"):
            await s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        with pytest.raises(s3crypt.EncryptionError):
            await s3.create_multipart_upload(Bucket=bucket, Key="mp")
    assert await nothing_left(aio_plain, bucket)


class _Reader:
    """An unseekable stream."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)

    def read(self, size: int = -1) -> bytes:
        size = len(self._data) if size < 0 else size
        chunk, self._data = self._data[:size], self._data[size:]
        return bytes(chunk)


async def test_upload_fileobj_takes_async_sources(aio_s3c: Any, bucket: str) -> None:
    body = os.urandom(12 * MIB + 5)

    async def chunks() -> Any:
        for start in range(0, len(body), 300_000):
            yield body[start : start + 300_000]

    class AsyncFile:
        def __init__(self) -> None:
            self._reader = _Reader(body)

        async def read(self, size: int = -1) -> bytes:
            return self._reader.read(size)

    for key, source in (("iterated", chunks()), ("read", AsyncFile())):
        await aio_s3c.upload_fileobj(source, bucket, key, Config=PARTS)
        assert await (await aio_s3c.get_object(Bucket=bucket, Key=key))["Body"].read() == body
