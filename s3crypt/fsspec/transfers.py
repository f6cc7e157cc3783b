"""Uploads of ``s3crypt://`` (``pipe``, ``put``): one encrypted put, or a multipart upload whose parts go in
order (each continues one GCM message), read one at a time so memory stays at one part; aborted, never
completed, when anything fails."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError
from s3fs.errors import translate_boto_error

if TYPE_CHECKING:
    from s3crypt.fsspec.filesystem import EncryptedS3FileSystem

MIN_PART = 5 * 1024 * 1024


class Source(Protocol):
    def read(self, size: int, /) -> bytes: ...


async def upload_stream(*args: Any, **kwargs: Any) -> Any:
    """:func:`upload` with S3's errors as s3fs raises them (``FileNotFoundError``, ``PermissionError``, ...)."""
    try:
        return await upload(*args, **kwargs)
    except ClientError as error:
        raise translate_boto_error(error) from error


async def upload(
    fs: EncryptedS3FileSystem,
    bucket: str,
    key: str,
    source: Source,
    size: int,
    chunksize: int,
    extra: dict[str, Any],
    *,
    mode: str = "overwrite",
) -> Any:
    """Upload ``size`` bytes of ``source`` to ``bucket``/``key``, encrypted; S3's response. ``mode="create"``
    writes only if no object is there (``If-None-Match: *``), as s3fs does."""
    s3 = await fs.set_session()
    match = {"IfNoneMatch": "*"} if mode == "create" else {}
    arguments = {"Bucket": bucket, "Key": key, **_encryption(fs), **extra}
    part_size = max(chunksize, MIN_PART)
    if size < 2 * part_size:
        body = await asyncio.to_thread(source.read, size)
        return await s3.put_object(Body=body, **arguments, **match)
    upload = await s3.create_multipart_upload(**arguments)
    upload_id = upload["UploadId"]
    try:
        parts: list[dict[str, Any]] = []
        sent = 0
        while sent < size:
            data = await asyncio.to_thread(source.read, min(part_size, size - sent))
            if not data:
                raise OSError(f"the source ended after {sent} of its {size} bytes")
            sent += len(data)
            number = len(parts) + 1
            part = await s3.upload_part(
                Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data, IsLastPart=sent >= size
            )
            parts.append({"PartNumber": number, "ETag": part["ETag"]})
        return await s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}, **match
        )
    except BaseException:
        await asyncio.shield(s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id))
        raise


def _encryption(fs: EncryptedS3FileSystem) -> dict[str, Any]:
    return {"EncryptionContext": fs.encryption_context} if fs.encryption_context else {}


class BytesSource:
    """``bytes`` read as a file, without a copy."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._at = 0

    def read(self, size: int) -> bytes:
        chunk = self._view[self._at : self._at + size]
        self._at += len(chunk)
        return bytes(chunk)
