"""Small test doubles shared by several test modules."""

from __future__ import annotations

import io
from typing import Any


class Unseekable(io.RawIOBase):
    """A readable stream that cannot seek or tell: its length is unknown to botocore and to s3crypt."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


def send_parts_and_complete(client: Any, bucket: str, key: str, upload_id: str, chunks: list[bytes]) -> None:
    """Upload ``chunks`` as the parts of ``upload_id``, in order, the last one marked, then complete the upload."""
    parts = []
    for number, chunk in enumerate(chunks, start=1):
        response = client.upload_part(
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            Body=chunk,
            IsLastPart=number == len(chunks),
        )
        parts.append({"ETag": response["ETag"], "PartNumber": number})
    client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
