"""One managed multipart upload: create it, send its parts on a pool of threads, complete it, or abort it."""

from __future__ import annotations

import concurrent.futures
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from s3crypt._compat import DEFAULT_CHECKSUM_ALGORITHM
from s3crypt.core.put import is_precomputed_checksum
from s3crypt.crypto.streams import EncryptingStream, GcmMessage
from s3crypt.transfer.utils import Transfer, concurrency

if TYPE_CHECKING:
    from s3crypt.operations.multipart import Uploads

SentPart = dict[str, Any]
"""What CompleteMultipartUpload needs of a part: its number, ETag and checksum."""

# The upload arguments every part repeats; the others belong to create_multipart_upload only.
PART_ARGS = frozenset(
    {"SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5", "RequestPayer", "ExpectedBucketOwner"}
)


@dataclass(frozen=True)
class PartSender:
    """Sends the parts of one multipart upload."""

    client: Any
    bucket: str
    key: str
    upload_id: str
    args: Mapping[str, Any]

    def send(self, number: int, body: EncryptingStream, *, last: bool) -> SentPart:
        part_args = {
            name: value for name, value in self.args.items() if name in PART_ARGS or name == "ChecksumAlgorithm"
        }
        response = self.client.upload_part(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=body,
            IsLastPart=last,
            **part_args,
        )
        checksums = {name: value for name, value in response.items() if is_precomputed_checksum(name)}
        return {"ETag": response["ETag"], "PartNumber": number, **checksums}


SendParts = Callable[[PartSender, GcmMessage, concurrent.futures.Executor], list["concurrent.futures.Future[SentPart]"]]
"""Submits the sending of every part to the pool; the futures of the parts."""


def upload_in_parts(client: Any, uploads: Uploads, transfer: Transfer, send_parts: SendParts) -> None:
    """Create an upload, send its parts, complete it; abort it if anything fails."""
    bucket, key, args = transfer.bucket, transfer.key, transfer.args
    if client.meta.config.request_checksum_calculation == "when_supported":
        args = {"ChecksumAlgorithm": DEFAULT_CHECKSUM_ALGORITHM, **args}  # as s3transfer does
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, **args)["UploadId"]
    try:
        message = uploads.message(upload_id)
        sender = PartSender(client, bucket, key, upload_id, args)
        with concurrent.futures.ThreadPoolExecutor(concurrency(transfer.config)) as pool:
            futures = send_parts(sender, message, pool)
            try:
                parts = [future.result() for future in concurrent.futures.as_completed(futures)]
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)  # send no more parts of a failed upload
                raise
        client.complete_multipart_upload(
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": sorted(parts, key=lambda part: part["PartNumber"])},
            **{name: value for name, value in args.items() if name in PART_ARGS},
        )
    except BaseException:
        with contextlib.suppress(Exception):
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        raise
    finally:
        uploads.close(upload_id)
