"""Bytes of an object fetched in ranges by tasks, each written at its offset in a file as it arrives.

Ranged GETs run as tasks, at most ``max_concurrency`` at once, each streaming its body in ``io_chunksize`` chunks
straight to the chunk's offset in the file, so memory holds
a few chunks whatever the range size. :meth:`Arrivals.wait_beyond` follows the bytes that have arrived
contiguously from the start. The ranges and the retry of a range cut short are the sync client's
(:mod:`s3crypt._core.transfers`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import IncompleteReadError

from s3crypt._compat import S3_RETRYABLE_DOWNLOAD_ERRORS
from s3crypt._core.transfers import Ranges, fetch_again
from s3crypt._transfer.utils import concurrency, write_at
from s3crypt.aio.reads import close_soon, read
from s3crypt.aio.transfers.tasks import stop

INLINE_WRITE = 1024 * 1024
"""A chunk up to this size (``io_chunksize`` is 256 KiB by default) is written on the loop, a larger one in a
worker thread."""

GetRange = Callable[[int, int], Awaitable[Any]]
"""Sends a ranged GET of bytes ``[start, end)``; its (aiobotocore) streaming body."""


class Arrivals:
    """Bytes ``[0, size)`` of an object, fetched in ranges by tasks and written at their offsets in ``fd``.

    A range cut short is fetched again from where it stopped, up to ``num_download_attempts`` times in all. The
    first error of any range stops the others and is raised by :meth:`wait_beyond`.
    """

    def __init__(self, get_range: GetRange, fd: int, size: int, config: TransferConfig) -> None:
        self.size = size
        self._get_range = get_range
        self._fd = fd
        self._attempts = config.num_download_attempts
        self._io_chunk = max(1, config.io_chunksize)
        self._ranges = Ranges(size, config.multipart_threshold, config.multipart_chunksize)
        self._error: BaseException | None = None
        self._arrived = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency(config))
        self._tasks = [asyncio.create_task(self._fetch(index)) for index in range(len(self._ranges))]

    async def wait_beyond(self, offset: int) -> int:
        """Wait until bytes past ``offset`` have arrived; how far they have arrived contiguously (``size`` at most)."""
        while True:
            if self._error is not None:
                raise self._error
            if (contiguous := self._ranges.beyond(offset)) is not None:
                return contiguous
            self._arrived.clear()
            await self._arrived.wait()

    async def _fetch(self, index: int) -> None:
        async with self._slots:
            if self._error is not None:
                return
            try:
                await self._fetch_range(index)
            except Exception as error:  # a cancellation is close()'s: nothing to report
                self._error = self._error or error
                self._arrived.set()

    async def _fetch_range(self, index: int) -> None:
        attempt = 1
        while (missing := self._ranges.missing(index))[0] < missing[1]:
            try:
                await self._stream(index, *missing)
            except S3_RETRYABLE_DOWNLOAD_ERRORS:
                if not fetch_again(attempt, self._attempts):
                    raise
                attempt += 1

    async def _stream(self, index: int, start: int, end: int) -> None:
        body = await self._get_range(start, end)
        position = start
        try:
            while position < end and self._error is None:
                data = await read(body, min(self._io_chunk, end - position))
                if not data:
                    raise IncompleteReadError(actual_bytes=position - start, expected_bytes=end - start)
                if len(data) > INLINE_WRITE:
                    await asyncio.to_thread(write_at, self._fd, data, position)
                else:
                    write_at(self._fd, data, position)
                position += len(data)
                if self._ranges.wrote(index, position):
                    self._arrived.set()
        finally:
            close_soon(body)

    async def close(self) -> None:
        """Stop fetching and wait for every task: none may write to the file once this returns."""
        await stop(self._tasks)


@contextlib.asynccontextmanager
async def arrivals_of(get_range: GetRange, fd: int, size: int, config: TransferConfig) -> AsyncIterator[Arrivals]:
    arrivals = Arrivals(get_range, fd, size, config)
    try:
        yield arrivals
    finally:
        await arrivals.close()
