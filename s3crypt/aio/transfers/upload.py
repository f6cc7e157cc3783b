"""``upload_file`` and ``upload_fileobj`` on the asyncio client: one ``put_object`` below the multipart threshold,
else parts sent as tasks (:mod:`.multipart`).

As for the sync client (:mod:`s3crypt._transfer.upload`), each part is encrypted with AES-CTR at its offset as it
is sent, while GCM reads the plaintext once, in order, for the tag that ends the last part: a file's last part
feeds GCM the whole file (in a worker thread) while the other parts are sent; a stream is read once, in order,
each chunk fed to GCM before its part starts, at most ``max_concurrency + 1`` chunks in memory.
"""

from __future__ import annotations

import asyncio
import io
import os
from typing import TYPE_CHECKING, Any

from s3crypt._core.transfers import Part, SentPart, check_part_number, plan_parts
from s3crypt._crypto.streams import EncryptingStream, check_plaintext_length
from s3crypt._transfer.upload import feed_gcm
from s3crypt._transfer.utils import Transfer, concurrency, report
from s3crypt.aio.transfers.multipart import SendParts, Upload, upload_in_parts
from s3crypt.aio.transfers.sources import Source, chunks_of
from s3crypt.aio.transfers.tasks import all_or_none, stop

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


async def upload_file(client: Any, filename: str | os.PathLike[str], transfer: Transfer) -> None:
    size = os.path.getsize(filename)
    check_plaintext_length(size)
    if size < transfer.config.multipart_threshold:
        with open(filename, "rb") as body:
            await client.put_object(Bucket=transfer.bucket, Key=transfer.key, Body=body, **transfer.args)
        report(transfer.callback, size)
        return
    parts = plan_parts(size, transfer.config.multipart_chunksize)
    await upload_in_parts(client, transfer, _file_parts(filename, parts, transfer))


async def upload_fileobj(client: Any, fileobj: Any, transfer: Transfer) -> None:
    source = Source(fileobj)
    first = await source.read_up_to(transfer.config.multipart_threshold)
    if len(first) < transfer.config.multipart_threshold:
        await client.put_object(Bucket=transfer.bucket, Key=transfer.key, Body=first, **transfer.args)
        report(transfer.callback, len(first))
        return
    chunks = chunks_of(source, first, transfer.config.multipart_chunksize)
    await upload_in_parts(client, transfer, _stream_parts(chunks, transfer))


def _file_parts(filename: str | os.PathLike[str], parts: list[Part], transfer: Transfer) -> SendParts:
    """Sends the parts of a file, each read from the file as it is sent."""

    async def send_parts(upload: Upload) -> list[SentPart]:
        async def send(part: Part) -> SentPart | None:
            async with upload.slot() as sending:
                if not sending:
                    return None
                with open(filename, "rb") as source:
                    if part.last:
                        await asyncio.to_thread(feed_gcm, upload.message, source, parts)
                    source.seek(part.offset)
                    stream = EncryptingStream(source, part.length, upload.message, part.offset, last=part.last)
                    sent = await upload.send(part.number, stream)
            report(transfer.callback, part.length)
            return sent

        # The last part first: its task feeds GCM the whole file while the other parts are sent.
        tasks = [asyncio.create_task(send(part)) for part in reversed(parts)]
        return [sent for sent in await all_or_none(tasks) if sent is not None]

    return send_parts


def _stream_parts(chunks: AsyncIterator[tuple[bytes, bool]], transfer: Transfer) -> SendParts:
    """Sends the chunks of a stream, read in order, at most ``max_concurrency + 1`` of them in memory."""

    async def send_parts(upload: Upload) -> list[SentPart]:
        in_flight = asyncio.Semaphore(concurrency(transfer.config) + 1)

        async def send(number: int, offset: int, chunk: bytes, last: bool) -> SentPart | None:
            try:
                async with upload.slot() as sending:
                    if not sending:
                        return None
                    stream = EncryptingStream(io.BytesIO(chunk), len(chunk), upload.message, offset, last=last)
                    sent = await upload.send(number, stream)
            finally:
                in_flight.release()
            report(transfer.callback, len(chunk))
            return sent

        tasks: list[asyncio.Task[SentPart | None]] = []
        try:
            offset, number = 0, 0
            async for chunk, last in chunks:
                number += 1
                check_part_number(number, transfer.config.multipart_chunksize)
                # GCM sees the stream once, in order (off the loop: a chunk is a part); the parts re-encrypt by CTR
                await asyncio.to_thread(upload.message.feed, offset, chunk)
                await in_flight.acquire()
                if upload.failed:
                    break  # read no more of the stream: the failed part's task raises its error
                tasks.append(asyncio.create_task(send(number, offset, chunk, last)))
                offset += len(chunk)
        except BaseException:
            await stop(tasks)
            raise
        return [sent for sent in await all_or_none(tasks) if sent is not None]

    return send_parts
