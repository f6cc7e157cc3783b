"""The sequential pass of a managed download: the sync readers of :mod:`s3crypt._crypto.streams` run a chunk at a
time in a worker thread, over bytes of the download's file that have already arrived, and their plaintext
delivered on the loop."""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Awaitable, Callable
from typing import Any

from s3crypt._core.transfers import stop_before_tag
from s3crypt._crypto.streams import CHUNK_SIZE, Readable
from s3crypt._transfer.utils import Callback, report, write_at
from s3crypt.aio.transfers.arrivals import Arrivals
from s3crypt.aio.transfers.tasks import settle

Step = Callable[[int], bytes]
"""Reads (decrypts) up to so many bytes more; run in a worker thread."""
Deliver = Callable[[bytes], Awaitable[None]]
"""Takes a step's plaintext on the loop."""


class Arrived:
    """A download's file read in order up to ``limit``, how far its bytes have arrived: never a byte beyond."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self.position = 0
        self.limit = 0

    def read(self, size: int = -1, /) -> bytes:
        available = self.limit - self.position
        wanted = available if size < 0 else min(size, available)
        data = os.pread(self._fd, wanted, self.position) if wanted > 0 else b""
        self.position += len(data)
        return data


async def follow(arrivals: Arrivals, source: Arrived, step: Step, deliver: Deliver | None) -> None:
    """Take ``step`` (a reader of ``source``) over the object as its bytes arrive, until it has read them all.

    The reader checks the tag as soon as the content ends: the content's last byte is read once the tag has
    arrived too.
    """
    size = arrivals.size
    waited_for = source.position
    while source.position < size:
        arrived = await arrivals.wait_beyond(waited_for)
        budget = stop_before_tag(source.position, arrived, size)
        if not budget:
            waited_for = arrived
            continue
        source.limit = arrived
        chunk = await run(step, min(budget, CHUNK_SIZE))
        if chunk and deliver is not None:
            await deliver(chunk)
        waited_for = source.position


async def copy(step: Step, deliver: Deliver) -> None:
    """Take ``step`` to its end, delivering its plaintext."""
    while chunk := await run(step, CHUNK_SIZE):
        await deliver(chunk)


async def run(step: Step, size: int) -> bytes:
    """One step in a worker thread, awaited to its end even if the transfer is cancelled meanwhile: the file it
    reads and writes is closed only once no thread uses it."""
    return await settle(asyncio.to_thread(step, size))


class InPlace:
    """The step of ``download_file``'s pass: the plaintext written over the ciphertext it was read from, never
    ahead of the reading."""

    def __init__(self, reader: Readable, fd: int) -> None:
        self._reader = reader
        self._fd = fd
        self.written = 0

    def __call__(self, size: int) -> bytes:
        chunk = self._reader.read(size)
        write_at(self._fd, chunk, self.written)
        self.written += len(chunk)
        return chunk


class Writer:
    """The caller's file object of ``download_fileobj``: a sync ``write`` is called in the worker thread of the
    step that decrypted the chunk, an async ``write`` (such as an ``aiofiles`` file's) is awaited on the loop."""

    def __init__(self, fileobj: Any, callback: Callback) -> None:
        write = fileobj.write
        self._async_write = write if inspect.iscoroutinefunction(write) else None
        self._sync_write = None if self._async_write is not None else write
        self._callback = callback

    def reading(self, reader: Readable) -> Step:
        def step(size: int) -> bytes:
            chunk = reader.read(size)
            if chunk and self._sync_write is not None:
                self._sync_write(chunk)
            return chunk

        return step

    async def deliver(self, chunk: bytes) -> None:
        if self._async_write is not None:
            await self._async_write(chunk)
        report(self._callback, len(chunk))


def reporting(callback: Callback) -> Deliver:
    async def deliver(chunk: bytes) -> None:
        report(callback, len(chunk))

    return deliver
