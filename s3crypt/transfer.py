"""Managed transfers with boto3's signatures: upload_file, upload_fileobj, download_file, download_fileobj.

Uploads above the multipart threshold send their parts concurrently: every part is encrypted with AES-CTR at
its offset as it is sent, while GCM reads the plaintext once, in order, for the tag that ends the last part.
Downloads fetch ranges of the ciphertext concurrently and decrypt them in order; ``download_file`` writes to a
temporary file beside the target and renames it into place only once the tag has verified, and
``download_fileobj`` releases nothing to the caller's file before the tag has verified.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import io
import os
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import IO, TYPE_CHECKING, Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import IncompleteReadError
from botocore.httpchecksum import DEFAULT_CHECKSUM_ALGORITHM
from s3transfer.manager import TransferManager
from s3transfer.utils import S3_RETRYABLE_DOWNLOAD_ERRORS

from s3crypt.crypto.streams import (
    CHUNK_SIZE,
    DelayedAuthReader,
    EncryptingStream,
    GcmMessage,
    Readable,
    check_plaintext_length,
    plaintext_reader,
)
from s3crypt.errors import ConfigurationError, EncryptionError
from s3crypt.format.context import validate_user_context
from s3crypt.operations.get import object_cipher
from s3crypt.operations.instruction import completed, take_suffix
from s3crypt.operations.params import RAW, encryption_context_for
from s3crypt.operations.put import is_precomputed_checksum

if TYPE_CHECKING:
    from s3crypt.config import EncryptionConfig
    from s3crypt.operations.multipart import Uploads

Callback = Callable[[int], Any] | None

MAX_PARTS = 10_000
_DOWNLOAD_RANGE = 4 * 1024 * 1024
"""Ranges fetched ahead are held in memory until their turn: small ones keep that memory small."""
_NOTHING_WRITTEN = "the download's temporary file was removed and the target left as it was"
# Checksum values of the plaintext, and the settings of a full-object checksum, cannot describe the ciphertext.
_UPLOAD_ARGS = frozenset(
    name
    for name in TransferManager.ALLOWED_UPLOAD_ARGS
    if not is_precomputed_checksum(name) and name not in {"ChecksumType", "MpuObjectSize"}
) | {"EncryptionContext", "InstructionFile", "BucketKeyEnabled"}
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
            failed = threading.Event()

            def send(number: int, offset: int, length: int) -> dict[str, Any] | None:
                if failed.is_set():  # queued parts are not sent; the failed part's future raises its own error
                    return None
                last = number == len(parts)
                try:
                    with open(filename, "rb") as source:
                        if last:
                            _feed_gcm(message, source, size)
                        source.seek(offset)
                        body = EncryptingStream(source, length, message, offset, last=last)
                        sent = self._send_part(bucket, key, upload_id, number, body, args, last=last)
                except BaseException:
                    failed.set()
                    raise
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
                message.encrypt(offset, chunk)  # GCM sees the stream once, in order; the parts re-encrypt by CTR
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

    # downloads

    def download_file(
        self,
        bucket: str,
        key: str,
        filename: str | os.PathLike[str],
        extra_args: Mapping[str, Any] | None,
        callback: Callback,
        config: TransferConfig | None,
    ) -> None:
        target = os.fspath(filename)
        directory, name = os.path.split(os.path.abspath(target))
        with self._ciphertext(bucket, key, extra_args, config) as (source, size, cipher):
            if cipher.suite.is_legacy:
                reader = plaintext_reader(source, size, cipher, delayed=True, memory_limit=0)
            else:  # decrypted into a temporary file that only a verified tag renames into place
                reader = DelayedAuthReader(source, size, cipher, released=_NOTHING_WRITTEN)
            temporary = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.s3crypt")
            try:
                fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for boto3
                with os.fdopen(fd, "wb") as out:
                    _copy(reader, out, callback)  # the last read checks the tag
                os.replace(temporary, target)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(temporary)
                raise

    def download_fileobj(
        self,
        bucket: str,
        key: str,
        fileobj: IO[bytes],
        extra_args: Mapping[str, Any] | None,
        callback: Callback,
        config: TransferConfig | None,
    ) -> None:
        with self._ciphertext(bucket, key, extra_args, config) as (source, size, cipher):
            reader = plaintext_reader(
                source, size, cipher, delayed=False, memory_limit=self._config.decrypt_memory_limit
            )
            try:
                _copy(reader, fileobj, callback)
            finally:
                reader.close()

    @contextlib.contextmanager
    def _ciphertext(
        self, bucket: str, key: str, extra_args: Mapping[str, Any] | None, config: TransferConfig | None
    ) -> Iterator[tuple[Readable, int, Any]]:
        """The object's ciphertext as a stream of concurrent ranged GETs, its size and its content cipher."""
        args = _checked(extra_args, _DOWNLOAD_ARGS, "download")
        context = encryption_context_for(self._config, args.pop("EncryptionContext", None), bucket, key)
        suffix = take_suffix(args)
        config = config or TransferConfig()
        head = self._client.head_object(Bucket=bucket, Key=key, **args)
        size: int = head["ContentLength"]
        stored_metadata = completed(self._client, bucket, key, suffix, head.get("Metadata") or {})
        cipher = object_cipher(self._config, stored_metadata, size, context)
        get_args = {**args, "IfMatch": head["ETag"], RAW: True}
        attempts = max(1, config.num_download_attempts)

        def fetch(start: int, end: int) -> bytes:
            # botocore retries a request, not the reading of its body: a range cut short is fetched again, as
            # s3transfer does, up to num_download_attempts times.
            attempt = 1
            while True:
                try:
                    response = self._client.get_object(
                        Bucket=bucket, Key=key, Range=f"bytes={start}-{end - 1}", **get_args
                    )
                    data: bytes = response["Body"].read()
                    if len(data) != end - start:
                        raise IncompleteReadError(actual_bytes=len(data), expected_bytes=end - start)
                    return data
                except S3_RETRYABLE_DOWNLOAD_ERRORS:
                    if attempt == attempts:
                        raise
                    attempt += 1

        multipart = size >= config.multipart_threshold
        part_size = min(config.multipart_chunksize, _DOWNLOAD_RANGE) if multipart else max(size, 1)
        source = _RangedSource(fetch, size, part_size, _concurrency(config))
        try:
            yield source, size, cipher
        finally:
            source.close()


class _RangedSource:
    """Bytes ``[0, size)`` of an object, fetched in ranges by a pool of threads and read in order.

    At most ``concurrency`` ranges are held ahead of the reader, which bounds memory.
    """

    def __init__(self, fetch: Callable[[int, int], bytes], size: int, part_size: int, concurrency: int) -> None:
        self._fetch = fetch
        self._ranges = collections.deque((start, min(start + part_size, size)) for start in range(0, size, part_size))
        self._pool = concurrent.futures.ThreadPoolExecutor(concurrency)
        self._pending: collections.deque[concurrent.futures.Future[bytes]] = collections.deque()
        self._window = concurrency
        self._buffer = b""
        self._offset = 0
        self._fill()

    def _fill(self) -> None:
        while self._ranges and len(self._pending) < self._window:
            start, end = self._ranges.popleft()
            self._pending.append(self._pool.submit(self._fetch, start, end))

    def read(self, size: int = -1, /) -> bytes:
        if self._offset == len(self._buffer):
            if not self._pending:
                return b""
            self._buffer, self._offset = self._pending.popleft().result(), 0
            self._fill()
        end = len(self._buffer) if size < 0 else min(self._offset + size, len(self._buffer))
        data = self._buffer[self._offset : end] if self._offset or end < len(self._buffer) else self._buffer
        self._offset = end
        return data

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


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


def _feed_gcm(message: GcmMessage, source: IO[bytes], size: int) -> None:
    """Give GCM whatever plaintext of ``source`` it has not seen yet, in order, so the tag can be computed."""
    while message.fed < size:
        offset = message.fed
        source.seek(offset)
        data = source.read(min(CHUNK_SIZE, size - offset))
        if not data:
            raise EncryptionError(f"the file ended after {offset} of the {size} bytes it held when the upload began")
        message.encrypt(offset, data)


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


def _copy(reader: Any, out: IO[bytes], callback: Callback) -> None:
    while chunk := reader.read(CHUNK_SIZE):
        out.write(chunk)
        _report(callback, len(chunk))


def _report(callback: Callback, amount: int) -> None:
    if callback is not None:
        callback(amount)
