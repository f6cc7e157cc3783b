"""Bytes of an object fetched in ranges by a pool of threads, each written at its offset in a file as it arrives.

Ranged GETs run on ``max_concurrency`` threads, each streaming its body in ``io_chunksize`` chunks straight to
the chunk's offset in the file, so memory holds a few chunks whatever the range size; a reader follows the bytes
that have arrived contiguously from the start.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import IncompleteReadError

from s3crypt._compat import S3_RETRYABLE_DOWNLOAD_ERRORS
from s3crypt._core.transfers import Ranges, fetch_again
from s3crypt._transfer.utils import concurrency, write_at

GetRange = Callable[[int, int], Any]
"""Starts a ranged GET of bytes ``[start, end)``; returns its streaming body."""


class Arrivals:
    """Bytes ``[0, size)`` of an object, fetched in ranges by a pool of threads and written at their offsets in ``fd``.

    A range cut short is fetched again from where it stopped, up to ``num_download_attempts`` times in all.
    :meth:`wait_beyond` tells how far the bytes have arrived contiguously from the start; the first error of any
    range is raised there.
    """

    def __init__(self, get_range: GetRange, fd: int, size: int, config: TransferConfig) -> None:
        self.size = size
        self._get_range = get_range
        self._fd = fd
        self._attempts = config.num_download_attempts
        self._io_chunk = max(1, config.io_chunksize)
        self._io_slots = threading.BoundedSemaphore(max(1, config.max_io_queue_size))  # chunks read and not yet written
        self._ranges = Ranges(size, config.multipart_threshold, config.multipart_chunksize)  # under _arrived
        self._error: BaseException | None = None
        self._stopped = threading.Event()
        self._arrived = threading.Condition()
        self._pool = ThreadPoolExecutor(concurrency(config), thread_name_prefix="s3crypt-download")
        for index in range(len(self._ranges)):
            self._pool.submit(self._fetch, index)

    def wait_beyond(self, offset: int) -> int:
        """Wait until bytes past ``offset`` have arrived; how far they have arrived contiguously (``size`` at most)."""
        with self._arrived:
            while True:
                if self._error is not None:
                    raise self._error
                if (contiguous := self._ranges.beyond(offset)) is not None:
                    return contiguous
                self._arrived.wait()

    def _fetch(self, index: int) -> None:
        try:
            self._fetch_range(index)
        except BaseException as error:
            with self._arrived:
                self._error = self._error or error
                self._stopped.set()
                self._arrived.notify_all()

    def _fetch_range(self, index: int) -> None:
        attempt = 1
        while not self._stopped.is_set():
            with self._arrived:
                start, end = self._ranges.missing(index)
            if start == end:
                return
            try:
                self._stream(index, start, end, self._get_range(start, end))
            except S3_RETRYABLE_DOWNLOAD_ERRORS:
                if not fetch_again(attempt, self._attempts):
                    raise
                attempt += 1

    def _stream(self, index: int, start: int, end: int, body: Any) -> None:
        position = start
        try:
            while position < end and not self._stopped.is_set():
                with self._io_slots:
                    data = body.read(min(self._io_chunk, end - position))
                    if not data:
                        raise IncompleteReadError(actual_bytes=position - start, expected_bytes=end - start)
                    write_at(self._fd, data, position)
                position += len(data)
                with self._arrived:
                    if self._ranges.wrote(index, position):
                        self._arrived.notify_all()
        finally:
            body.close()

    def close(self) -> None:
        """Stop fetching and wait for every thread: none may write to the file once this returns."""
        self._stopped.set()
        self._pool.shutdown(wait=True, cancel_futures=True)


class ArrivedReader:
    """The bytes of :class:`Arrivals` read in order from ``fd``, each read waiting until they have arrived."""

    def __init__(self, arrivals: Arrivals, fd: int) -> None:
        self._arrivals = arrivals
        self._fd = fd
        self._position = 0

    def read(self, size: int = -1, /) -> bytes:
        if self._position >= self._arrivals.size:
            return b""
        available = self._arrivals.wait_beyond(self._position) - self._position
        data = os.pread(self._fd, available if size < 0 else min(size, available), self._position)
        self._position += len(data)
        return data


@contextlib.contextmanager
def arrivals_of(get_range: GetRange, fd: int, size: int, config: TransferConfig) -> Iterator[ArrivedReader]:
    arrivals = Arrivals(get_range, fd, size, config)
    try:
        yield ArrivedReader(arrivals, fd)
    finally:
        arrivals.close()
