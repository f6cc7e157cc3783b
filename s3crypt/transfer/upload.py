"""Managed uploads: one ``put_object`` below the multipart threshold, else concurrent parts.

Every part is encrypted with AES-CTR at its offset as it is sent, while GCM reads the plaintext once, in order,
for the tag that ends the last part. A file's parts are read from the file as they are sent, and the task of the
last part feeds GCM the whole file; a stream is read once, in order, each chunk fed to GCM before its part is
submitted.
"""

from __future__ import annotations

import concurrent.futures
import io
import os
import threading
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from s3crypt.crypto.rereads import piece_end
from s3crypt.crypto.streams import EncryptingStream, GcmMessage, check_plaintext_length
from s3crypt.errors import ConfigurationError, EncryptionError
from s3crypt.operations.inputs import binary_stream
from s3crypt.transfer.multipart import PartSender, SendParts, SentPart, upload_in_parts
from s3crypt.transfer.utils import MAX_PARTS, Transfer, concurrency, part_size, read_up_to, report

if TYPE_CHECKING:
    from s3crypt.operations.multipart import Uploads


class Uploader:
    """The managed uploads of one encrypting client, with ``ExtraArgs`` already checked."""

    def __init__(self, client: Any, uploads: Uploads) -> None:
        self._client = client
        self._uploads = uploads

    def upload_file(self, filename: str | os.PathLike[str], transfer: Transfer) -> None:
        size = os.path.getsize(filename)
        check_plaintext_length(size)
        if size < transfer.config.multipart_threshold:
            with open(filename, "rb") as body:
                self._client.put_object(Bucket=transfer.bucket, Key=transfer.key, Body=body, **transfer.args)
            report(transfer.callback, size)
            return
        length_of_part = part_size(size, transfer.config.multipart_chunksize)
        upload_in_parts(self._client, self._uploads, transfer, _file_parts(filename, size, length_of_part, transfer))

    def upload_fileobj(self, fileobj: IO[bytes], transfer: Transfer) -> None:
        fileobj = binary_stream(fileobj, "Fileobj")
        first = read_up_to(fileobj, transfer.config.multipart_threshold)
        if len(first) < transfer.config.multipart_threshold:
            self._client.put_object(Bucket=transfer.bucket, Key=transfer.key, Body=first, **transfer.args)
            report(transfer.callback, len(first))
            return
        chunks = _chunks_of(fileobj, first, transfer.config.multipart_chunksize)
        upload_in_parts(self._client, self._uploads, transfer, _stream_parts(chunks, transfer))


def _file_parts(filename: str | os.PathLike[str], size: int, length_of_part: int, transfer: Transfer) -> SendParts:
    """Sends the parts of a file, each read from the file as it is sent."""
    parts = [(offset, min(length_of_part, size - offset)) for offset in range(0, size, length_of_part)]

    def send_parts(
        sender: PartSender, message: GcmMessage, pool: concurrent.futures.Executor
    ) -> list[concurrent.futures.Future[SentPart]]:
        def send(number: int, offset: int, length: int) -> SentPart:
            last = number == len(parts)
            with open(filename, "rb") as source:
                if last:
                    _feed_gcm(message, source, size, length_of_part)
                source.seek(offset)
                sent = sender.send(number, EncryptingStream(source, length, message, offset, last=last), last=last)
            report(transfer.callback, length)
            return sent

        # The last part first: its task feeds GCM the whole file while the other parts are sent.
        numbered = list(enumerate(parts, start=1))
        return [pool.submit(send, n, offset, length) for n, (offset, length) in reversed(numbered)]

    return send_parts


def _stream_parts(chunks: Iterator[tuple[bytes, bool]], transfer: Transfer) -> SendParts:
    """Sends the chunks of a stream, read in order, at most ``concurrency + 1`` of them in memory."""

    def send_parts(
        sender: PartSender, message: GcmMessage, pool: concurrent.futures.Executor
    ) -> list[concurrent.futures.Future[SentPart]]:
        config = transfer.config
        in_flight = threading.BoundedSemaphore(concurrency(config) + 1)

        def send(number: int, offset: int, chunk: bytes, last: bool) -> SentPart:
            try:
                sent = sender.send(
                    number, EncryptingStream(io.BytesIO(chunk), len(chunk), message, offset, last=last), last=last
                )
            finally:
                in_flight.release()
            report(transfer.callback, len(chunk))
            return sent

        futures: list[concurrent.futures.Future[SentPart]] = []
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

    return send_parts


def _feed_gcm(message: GcmMessage, source: IO[bytes], size: int, part_size: int) -> None:
    """Give GCM whatever plaintext of ``source`` it has not seen yet, in order, so the tag can be computed.

    It reads the pieces the parts read (cut at part boundaries too), so each is checked against the other read.
    """
    while message.fed < size:
        offset = message.fed
        source.seek(offset)
        length = piece_end(offset, min(size, (offset // part_size + 1) * part_size)) - offset
        data = read_up_to(source, length)
        if len(data) < length:
            raise EncryptionError(f"the file ended before the {size} bytes it held when the upload began")
        message.encrypt(offset, data)


def _chunks_of(fileobj: IO[bytes], first: bytes, chunk_size: int) -> Iterator[tuple[bytes, bool]]:
    """The stream in chunks of ``chunk_size``, each with whether it is the last, reading one chunk ahead."""
    pending = first + read_up_to(fileobj, max(0, chunk_size - len(first)))
    while True:
        following = read_up_to(fileobj, chunk_size)
        yield pending, not following
        if not following:
            return
        pending = following
