"""The sequential pass of a managed download: the object's decryption (:mod:`s3crypt._crypto.decryption`) is pushed
the bytes of the download's file as they arrive, a chunk at a time in a worker thread, and its plaintext delivered
on the loop. The decryption holds the content's end back until the tag after it has arrived and verified."""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Awaitable, Callable
from typing import Any

from s3crypt._crypto.decryption import Decryption
from s3crypt._crypto.streams import CHUNK_SIZE, Readable
from s3crypt._transfer.utils import Callback, report, write_at
from s3crypt.aio.transfers.arrivals import Arrivals
from s3crypt.aio.transfers.tasks import settle

Step = Callable[[int], bytes]
"""Reads up to so many bytes more and decrypts them; run in a worker thread."""
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
    """Take ``step`` (which reads ``source``) over the object as its bytes arrive, until it has read them all."""
    while source.position < arrivals.size:
        source.limit = await arrivals.wait_beyond(source.position)
        chunk = await run(step, CHUNK_SIZE)
        if chunk and deliver is not None:
            await deliver(chunk)


async def copy(step: Step, deliver: Deliver) -> None:
    """Take ``step`` to its end, delivering its plaintext."""
    while chunk := await run(step, CHUNK_SIZE):
        await deliver(chunk)


async def run(step: Step, size: int) -> bytes:
    """One step in a worker thread, awaited to its end even if the transfer is cancelled meanwhile: the file it
    reads and writes is closed only once no thread uses it."""
    return await settle(asyncio.to_thread(step, size))


def decrypting(source: Readable, decryption: Decryption) -> Step:
    """The step that pushes the next bytes of ``source`` into ``decryption``; the plaintext it releases."""

    def step(size: int) -> bytes:
        return decryption.update(source.read(size))

    return step


class InPlace:
    """The step of ``download_file``'s pass: the plaintext written over the ciphertext it was read from, never
    ahead of the reading."""

    def __init__(self, step: Step, fd: int) -> None:
        self._step = step
        self._fd = fd
        self.written = 0

    def __call__(self, size: int) -> bytes:
        chunk = self._step(size)
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

    def writing(self, step: Step) -> Step:
        def write(size: int) -> bytes:
            chunk = step(size)
            if chunk and self._sync_write is not None:
                self._sync_write(chunk)
            return chunk

        return write

    async def deliver(self, chunk: bytes) -> None:
        if self._async_write is not None:
            await self._async_write(chunk)
        report(self._callback, len(chunk))


def reporting(callback: Callback) -> Deliver:
    async def deliver(chunk: bytes) -> None:
        report(callback, len(chunk))

    return deliver
