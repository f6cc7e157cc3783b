"""Managed transfers with boto3's signatures: upload_file, upload_fileobj, download_file, download_fileobj.

Uploads above the multipart threshold send their parts concurrently: every part is encrypted with AES-CTR at
its offset as it is sent, while GCM reads the plaintext once, in order, for the tag that ends the last part.
Downloads are in :mod:`s3crypt.transfer_download`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import io
import os
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import IO, TYPE_CHECKING, Any

from boto3.s3.transfer import TransferConfig
from botocore.httpchecksum import DEFAULT_CHECKSUM_ALGORITHM
from s3transfer.manager import TransferManager

from s3crypt.crypto.rereads import piece_end
from s3crypt.crypto.streams import (
    EncryptingStream,
    GcmMessage,
    check_plaintext_length,
)
from s3crypt.errors import ConfigurationError, EncryptionError
from s3crypt.format.context import validate_user_context
from s3crypt.operations import copy
from s3crypt.operations.inputs import binary_stream
from s3crypt.operations.put import is_precomputed_checksum
from s3crypt.transfer_download import Downloads

if TYPE_CHECKING:
    from s3crypt.config import EncryptionConfig
    from s3crypt.operations.multipart import Uploads

Callback = Callable[[int], Any] | None

MAX_PARTS = 10_000
# Checksum values of the plaintext, and the settings of a full-object checksum, cannot describe the ciphertext.
_UPLOAD_ARGS = frozenset(
    name
    for name in TransferManager.ALLOWED_UPLOAD_ARGS
    if not is_precomputed_checksum(name) and name not in {"ChecksumType", "MpuObjectSize"}
) | {"EncryptionContext", "InstructionFile", "BucketKeyEnabled"}
_COPY_ARGS = frozenset(name for name in TransferManager.ALLOWED_COPY_ARGS if not is_precomputed_checksum(name)) | {
    "EncryptionContext",
    "InstructionFileSuffix",
}
_DOWNLOAD_ARGS = frozenset(TransferManager.ALLOWED_DOWNLOAD_ARGS) | {"EncryptionContext", "InstructionFileSuffix"}
# The upload arguments every part repeats; the others belong to create_multipart_upload only.
_PART_ARGS = frozenset(
    {"SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5", "RequestPayer", "ExpectedBucketOwner"}
)


class Transfers:
    """The managed transfers of one encrypting client."""

    def __init__(self, client: Any, config: EncryptionConfig, uploads: Uploads) -> None:
        self._client = client
        self._config = config
        self._uploads = uploads

    # uploads

    def upload_file(
        self,
        filename: str | os.PathLike[str],
        bucket: str,
        key: str,
        extra_args: Mapping[str, Any] | None,
        callback: Callback,
        config: TransferConfig | None,
    ) -> None:
        args = _checked(extra_args, _UPLOAD_ARGS, "upload")
        config = config or TransferConfig()
        size = os.path.getsize(filename)
        check_plaintext_length(size)
        if size < config.multipart_threshold:
            with open(filename, "rb") as body:
                self._client.put_object(Bucket=bucket, Key=key, Body=body, **args)
            _report(callback, size)
            return
        part_size = _part_size(size, config.multipart_chunksize)
        parts = [(offset, min(part_size, size - offset)) for offset in range(0, size, part_size)]

        def send_parts(upload_id: str, message: GcmMessage, pool: concurrent.futures.Executor) -> list[Any]:
            def send(number: int, offset: int, length: int) -> dict[str, Any]:
                last = number == len(parts)
                with open(filename, "rb") as source:
                    if last:
                        _feed_gcm(message, source, size, part_size)
                    source.seek(offset)
                    body = EncryptingStream(source, length, message, offset, last=last)
                    sent = self._send_part(bucket, key, upload_id, number, body, args, last=last)
                _report(callback, length)
                return sent

            # The last part first: its task feeds GCM the whole file while the other parts are sent.
            numbered = list(enumerate(parts, start=1))
            return [pool.submit(send, n, offset, length) for n, (offset, length) in reversed(numbered)]

        self._multipart(bucket, key, args, config, send_parts)

    def upload_fileobj(
        self,
        fileobj: IO[bytes],
        bucket: str,
        key: str,
        extra_args: Mapping[str, Any] | None,
        callback: Callback,
        config: TransferConfig | None,
    ) -> None:
        args = _checked(extra_args, _UPLOAD_ARGS, "upload")
        config = config or TransferConfig()
        fileobj = binary_stream(fileobj, "Fileobj")
        first = _read_up_to(fileobj, config.multipart_threshold)
        if len(first) < config.multipart_threshold:
            self._client.put_object(Bucket=bucket, Key=key, Body=first, **args)
            _report(callback, len(first))
            return
        chunks = _chunks_of(fileobj, first, config.multipart_chunksize)

        def send_parts(upload_id: str, message: GcmMessage, pool: concurrent.futures.Executor) -> list[Any]:
            in_flight = threading.BoundedSemaphore(_concurrency(config) + 1)

            def send(number: int, offset: int, chunk: bytes, last: bool) -> dict[str, Any]:
                try:
                    body = EncryptingStream(io.BytesIO(chunk), len(chunk), message, offset, last=last)
                    sent = self._send_part(bucket, key, upload_id, number, body, args, last=last)
                finally:
                    in_flight.release()
                _report(callback, len(chunk))
                return sent

            futures: list[concurrent.futures.Future[dict[str, Any]]] = []
            offset = 0
            for number, (chunk, last) in enumerate(chunks, start=1):
                if number > MAX_PARTS:
                    raise ConfigurationError(
                        f"the stream needs more than {MAX_PARTS} parts of {config.multipart_chunksize} bytes: "
                        "raise multipart_chunksize in the TransferConfig"
                    )
                message.feed(offset, chunk)  # GCM sees the stream once, in order; the parts re-encrypt by CTR
                in_flight.acquire()
                if any(future.done() and future.exception() for future in futures):
                    in_flight.release()
                    break  # a part failed: read no more of the stream
                futures.append(pool.submit(send, number, offset, chunk, last))
                offset += len(chunk)
            return futures

        self._multipart(bucket, key, args, config, send_parts)

    def _multipart(
        self,
        bucket: str,
        key: str,
        args: dict[str, Any],
        config: TransferConfig,
        send_parts: Callable[[str, GcmMessage, concurrent.futures.Executor], list[Any]],
    ) -> None:
        """Create an upload, send its parts, complete it; abort it if anything fails."""
        if self._client.meta.config.request_checksum_calculation == "when_supported":
            args = {"ChecksumAlgorithm": DEFAULT_CHECKSUM_ALGORITHM, **args}  # as s3transfer does
        upload_id = self._client.create_multipart_upload(Bucket=bucket, Key=key, **args)["UploadId"]
        try:
            message = self._uploads.message(upload_id)
            with concurrent.futures.ThreadPoolExecutor(_concurrency(config)) as pool:
                futures = send_parts(upload_id, message, pool)
                try:
                    parts = [future.result() for future in concurrent.futures.as_completed(futures)]
                except BaseException:
                    pool.shutdown(wait=True, cancel_futures=True)  # send no more parts of a failed upload
                    raise
            self._client.complete_multipart_upload(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": sorted(parts, key=lambda part: part["PartNumber"])},
                **{name: value for name, value in args.items() if name in _PART_ARGS},
            )
        except BaseException:
            with contextlib.suppress(Exception):
                self._client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise
        finally:
            self._uploads.close(upload_id)

    def _send_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        number: int,
        body: EncryptingStream,
        args: dict[str, Any],
        *,
        last: bool,
    ) -> dict[str, Any]:
        """Send one part; what CompleteMultipartUpload needs of it (ETag and checksum)."""
        part_args = {name: value for name, value in args.items() if name in _PART_ARGS or name == "ChecksumAlgorithm"}
        response = self._client.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body, IsLastPart=last, **part_args
        )
        checksums = {name: value for name, value in response.items() if is_precomputed_checksum(name)}
        return {"ETag": response["ETag"], "PartNumber": number, **checksums}

    # copies

    def copy(
        self,
        source: str | Mapping[str, str],
        bucket: str,
        key: str,
        extra_args: Mapping[str, Any] | None,
        callback: Callback,
        source_client: Any,
        config: TransferConfig | None,
    ) -> None:
        args = _checked(extra_args, _COPY_ARGS, "copy")
        config = config or TransferConfig()
        source_bucket, source_key, version = copy.copy_source(source)
        versioned = {"VersionId": version} if version else {}
        head = (source_client or self._client).head_object(
            Bucket=source_bucket, Key=source_key, **versioned, **copy.source_sse(args)
        )
        size: int = head["ContentLength"]
        if size < config.multipart_threshold:  # copy_object's own handler keeps the envelope
            self._client.copy_object(CopySource=source, Bucket=bucket, Key=key, **args)
            _report(callback, size)
            return
        user_context, suffix = copy.take_copy_parameters(self._config, args)
        origin, destination = (source_bucket, source_key), (bucket, key)
        plan = copy.plan(self._config, self._client, head, origin, destination, user_context, suffix)
        create_args, part_args = copy.multipart_arguments(plan, head, args, (*origin, version), destination)
        if args.get("TaggingDirective") != "REPLACE":
            tags = self._client.get_object_tagging(Bucket=source_bucket, Key=source_key, **versioned)["TagSet"]
            if tags:
                create_args["Tagging"] = urllib.parse.urlencode([(tag["Key"], tag["Value"]) for tag in tags])
        part_size = _part_size(size, config.multipart_chunksize)
        on_part = functools.partial(_report, callback)
        copy.copy_in_parts(
            self._client, create_args, part_args, size, part_size, concurrency=_concurrency(config), on_part=on_part
        )
        if plan is not None:
            copy.finish(self._client, plan, destination)

    # downloads: s3crypt.transfer_download

    def download_file(
        self,
        bucket: str,
        key: str,
        filename: str | os.PathLike[str],
        extra_args: Mapping[str, Any] | None,
        callback: Callback,
        config: TransferConfig | None,
    ) -> None:
        args = _checked(extra_args, _DOWNLOAD_ARGS, "download")
        Downloads(self._client, self._config).download_file(bucket, key, filename, args, callback, config)

    def download_fileobj(
        self,
        bucket: str,
        key: str,
        fileobj: IO[bytes],
        extra_args: Mapping[str, Any] | None,
        callback: Callback,
        config: TransferConfig | None,
    ) -> None:
        args = _checked(extra_args, _DOWNLOAD_ARGS, "download")
        Downloads(self._client, self._config).download_fileobj(bucket, key, fileobj, args, callback, config)


def _checked(extra_args: Mapping[str, Any] | None, allowed: frozenset[str], direction: str) -> dict[str, Any]:
    args = dict(extra_args or {})
    unknown = sorted(args.keys() - allowed)
    if unknown:
        raise ConfigurationError(
            f"ExtraArgs {unknown} are not allowed for an encrypted {direction}; allowed: {sorted(allowed)}"
        )
    if "EncryptionContext" in args:
        validate_user_context(args["EncryptionContext"])
    return args


def _concurrency(config: TransferConfig) -> int:
    return max(1, config.max_request_concurrency) if config.use_threads else 1


def _part_size(size: int, chunk_size: int) -> int:
    """The configured part size, grown if the object would need more than S3's 10,000 parts."""
    return max(chunk_size, -(-size // MAX_PARTS))


def _feed_gcm(message: GcmMessage, source: IO[bytes], size: int, part_size: int) -> None:
    """Give GCM whatever plaintext of ``source`` it has not seen yet, in order, so the tag can be computed.

    It reads the pieces the parts read (cut at part boundaries too), so each is checked against the other read.
    """
    while message.fed < size:
        offset = message.fed
        source.seek(offset)
        length = piece_end(offset, min(size, (offset // part_size + 1) * part_size)) - offset
        data = _read_up_to(source, length)
        if len(data) < length:
            raise EncryptionError(f"the file ended before the {size} bytes it held when the upload began")
        message.feed(offset, data)


def _read_up_to(fileobj: IO[bytes], size: int) -> bytes:
    parts, remaining = [], size
    while remaining and (data := fileobj.read(remaining)):
        parts.append(data)
        remaining -= len(data)
    return b"".join(parts)


def _chunks_of(fileobj: IO[bytes], first: bytes, chunk_size: int) -> Iterator[tuple[bytes, bool]]:
    """The stream in chunks of ``chunk_size``, each with whether it is the last, reading one chunk ahead."""
    pending = first + _read_up_to(fileobj, max(0, chunk_size - len(first)))
    while True:
        following = _read_up_to(fileobj, chunk_size)
        yield pending, not following
        if not following:
            return
        pending = following


def _report(callback: Callback, amount: int) -> None:
    if callback is not None:
        callback(amount)
