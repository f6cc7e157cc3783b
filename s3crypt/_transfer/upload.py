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

from s3crypt._core.transfers import Part, SentPart, check_part_number, plan_parts
from s3crypt._crypto.rereads import piece_end
from s3crypt._crypto.streams import EncryptingStream, GcmMessage, check_plaintext_length
from s3crypt._errors import EncryptionError
from s3crypt._operations.inputs import binary_stream
from s3crypt._transfer.multipart import PartSender, SendParts, upload_in_parts
from s3crypt._transfer.utils import Transfer, concurrency, read_up_to, report

if TYPE_CHECKING:
    from s3crypt._config import EncryptionConfig


class Uploader:
    """The managed uploads of one encrypting client, with ``ExtraArgs`` already checked."""

    def __init__(self, client: Any, config: EncryptionConfig) -> None:
        self._client = client
        self._config = config

    def upload_file(self, filename: str | os.PathLike[str], transfer: Transfer) -> None:
        size = os.path.getsize(filename)
        check_plaintext_length(size)
        if size < transfer.config.multipart_threshold:
            with open(filename, "rb") as body:
                self._client.put_object(Bucket=transfer.bucket, Key=transfer.key, Body=body, **transfer.args)
            report(transfer.callback, size)
            return
        parts = plan_parts(size, transfer.config.multipart_chunksize)
        upload_in_parts(self._client, self._config, transfer, _file_parts(filename, parts, transfer))

    def upload_fileobj(self, fileobj: IO[bytes], transfer: Transfer) -> None:
        fileobj = binary_stream(fileobj, "Fileobj")
        first = read_up_to(fileobj, transfer.config.multipart_threshold)
        if len(first) < transfer.config.multipart_threshold:
            self._client.put_object(Bucket=transfer.bucket, Key=transfer.key, Body=first, **transfer.args)
            report(transfer.callback, len(first))
            return
        chunks = _chunks_of(fileobj, first, transfer.config.multipart_chunksize)
        upload_in_parts(self._client, self._config, transfer, _stream_parts(chunks, transfer))


def _file_parts(filename: str | os.PathLike[str], parts: list[Part], transfer: Transfer) -> SendParts:
    """Sends the parts of a file, each read from the file as it is sent."""

    def send_parts(
        sender: PartSender, message: GcmMessage, pool: concurrent.futures.Executor
    ) -> list[concurrent.futures.Future[SentPart | None]]:
        def send(part: Part) -> SentPart | None:
            with open(filename, "rb") as source:
                if part.last:
                    feed_gcm(message, source, parts)
                source.seek(part.offset)
                sent = sender.send(
                    part.number, EncryptingStream(source, part.length, message, part.offset, last=part.last)
                )
            report(transfer.callback, part.length)
            return sent

        # The last part first: its task feeds GCM the whole file while the other parts are sent.
        return [pool.submit(send, part) for part in reversed(parts)]

    return send_parts


def _stream_parts(chunks: Iterator[tuple[bytes, bool]], transfer: Transfer) -> SendParts:
    """Sends the chunks of a stream, read in order, at most ``concurrency + 1`` of them in memory."""

    def send_parts(
        sender: PartSender, message: GcmMessage, pool: concurrent.futures.Executor
    ) -> list[concurrent.futures.Future[SentPart | None]]:
        config = transfer.config
        in_flight = threading.BoundedSemaphore(concurrency(config) + 1)

        def send(number: int, offset: int, chunk: bytes, last: bool) -> SentPart | None:
            try:
                sent = sender.send(number, EncryptingStream(io.BytesIO(chunk), len(chunk), message, offset, last=last))
            finally:
                in_flight.release()
            report(transfer.callback, len(chunk))
            return sent

        futures: list[concurrent.futures.Future[SentPart | None]] = []
        offset = 0
        for number, (chunk, last) in enumerate(chunks, start=1):
            check_part_number(number, config.multipart_chunksize)
            message.feed(offset, chunk)  # GCM sees the stream once, in order; the parts re-encrypt by CTR
            in_flight.acquire()
            if any(future.done() and future.exception() for future in futures):
                in_flight.release()
                break  # a part failed: read no more of the stream
            futures.append(pool.submit(send, number, offset, chunk, last))
            offset += len(chunk)
        return futures

    return send_parts


def feed_gcm(message: GcmMessage, source: IO[bytes], parts: list[Part]) -> None:
    """Give GCM whatever plaintext of the file ``source`` (cut in ``parts``) it has not seen yet, in order, so the
    tag can be computed.

    It reads the pieces the parts read (cut at part boundaries too), so each is checked against the other read.
    """
    size = parts[-1].offset + parts[-1].length
    part_size = parts[0].length
    while message.fed < size:
        offset = message.fed
        source.seek(offset)
        length = piece_end(offset, min(size, (offset // part_size + 1) * part_size)) - offset
        data = read_up_to(source, length)
        if len(data) < length:
            raise EncryptionError(f"the file ended before the {size} bytes it held when the upload began")
        message.feed(offset, data)


def _chunks_of(fileobj: IO[bytes], first: bytes, chunk_size: int) -> Iterator[tuple[bytes, bool]]:
    """The stream in chunks of ``chunk_size``, each with whether it is the last, reading one chunk ahead."""
    pending = first + read_up_to(fileobj, max(0, chunk_size - len(first)))
    while True:
        following = read_up_to(fileobj, chunk_size)
        yield pending, not following
        if not following:
            return
        pending = following
