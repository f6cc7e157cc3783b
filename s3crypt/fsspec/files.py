"""The files ``s3crypt://`` opens: plaintext read from a verified object, and a write that streams parts.

:class:`EncryptedWriteFile` is s3fs's ``S3File`` with its parts sent in order straight through the encrypting
client (s3fs's own call wrapper would drop ``IsLastPart`` and resend a failed part, which an encrypted upload
refuses; botocore's retries resend identical bytes), the last part marked, and an exception inside
``with fs.open(path, "wb")`` aborting the upload instead of committing what was written so far.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from fsspec.asyn import sync
from fsspec.spec import AbstractBufferedFile
from s3fs.core import S3File

if TYPE_CHECKING:
    from s3crypt.fsspec.filesystem import EncryptedS3FileSystem
    from s3crypt.fsspec.verified import VerifiedObject


class DecryptedFile(AbstractBufferedFile):  # type: ignore[misc]
    """A read-only, seekable file of an encrypted object's plaintext; its first read fetches and verifies the
    object (or finds it verified by an earlier open)."""

    def __init__(self, fs: EncryptedS3FileSystem, path: str, block_size: int, details: dict[str, Any]) -> None:
        super().__init__(fs, path, "rb", block_size, cache_type="none", size=details["size"])
        self.details = details
        self._object: VerifiedObject | None = None

    def _fetch_range(self, start: int, end: int) -> bytes:
        if not self.details.get("encrypted", True) or self.fs.encryption_config.enable_ranged_get:
            data: bytes = sync(self.fs.loop, self.fs._range, self.path, self.details, start, min(end, self.size))
            return data
        if self._object is None:  # kept while the file is open, whatever the filesystem's cache drops
            self._object = sync(self.fs.loop, self.fs._verified, self.path, self.details)
        return self._object.read(start, end)

    def close(self) -> None:
        self._object = None
        super().close()


class EncryptedWriteFile(S3File):  # type: ignore[misc]
    """s3fs's file for writing, whose multipart upload goes through the encrypting client in order."""

    fs: EncryptedS3FileSystem
    buffer: io.BytesIO

    def _upload_chunk(self, final: bool = False) -> bool:
        one_shot = self.autocommit and not self.append_block and final and self.tell() < self.blocksize
        sent = 0
        try:
            if not one_shot:
                data = self.buffer.getvalue()
                if data:  # none at the end: completing the upload sends a part holding only the tag
                    self._send_part(data, last=final)
                sent = len(data)
                self.buffer = io.BytesIO()
            if self.autocommit and final:
                self.commit()
        except BaseException:
            self._abort_mpu()  # a failed part or completion leaves no upload behind
            raise
        if not final:
            self.offset += sent
        return False

    def _send_part(self, data: bytes, *, last: bool) -> None:
        number = len(self.parts) + 1
        response = sync(
            self.fs.loop,
            self.fs.s3.upload_part,
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.mpu["UploadId"],
            PartNumber=number,
            Body=data,
            IsLastPart=last,
        )
        self.parts.append({"PartNumber": number, "ETag": response["ETag"]})

    def _initiate_upload(self) -> None:
        if self.append_block:
            raise NotImplementedError("s3crypt:// cannot append to an encrypted object")
        super()._initiate_upload()

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        if exc_type is None:
            self.close()
            return
        self.discard()  # what was written is not the object the caller meant: upload nothing

    def discard(self) -> None:
        super().discard()
        self.closed = True
