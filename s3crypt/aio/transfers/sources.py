"""What ``upload_fileobj`` reads: a sync file object (read in a worker thread), an object whose ``read`` is a
coroutine (such as an ``aiofiles`` file), or an async iterable of bytes, each read once, in order."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from typing import Any

from s3crypt._errors import InvalidParameterError
from s3crypt._operations.inputs import BINARY, binary_stream
from s3crypt._transfer.utils import read_up_to


def is_async_reader(source: Any) -> bool:
    return inspect.iscoroutinefunction(getattr(source, "read", None))


class Source:
    """A source of ``upload_fileobj``: :meth:`read_up_to` gives ``size`` bytes, or fewer only at its end; what it
    reads must be bytes."""

    def __init__(self, source: Any) -> None:
        self._source = source
        self._pending = b""
        self._chunks: AsyncIterator[bytes] | None = None
        self._read_async = source.read if is_async_reader(source) else None
        self._sync = None
        if self._read_async is None and hasattr(source, "__aiter__"):
            self._chunks = aiter(source)
        elif self._read_async is None:
            self._sync = binary_stream(source, "Fileobj")

    async def read_up_to(self, size: int) -> bytes:
        if self._sync is not None:  # a sync stream may block (a pipe, a socket): never on the loop
            return await asyncio.to_thread(read_up_to, self._sync, size)
        parts, remaining = [self._pending], size - len(self._pending)
        while remaining > 0 and (data := await self._next(remaining)):
            parts.append(data)
            remaining -= len(data)
        data = b"".join(parts)
        data, self._pending = data[:size], data[size:]
        return data

    async def _next(self, size: int) -> bytes:
        if self._read_async is not None:
            data = await self._read_async(size)
        else:
            assert self._chunks is not None
            data = await anext(self._chunks, b"")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidParameterError("Fileobj", self._source, f"{BINARY}; it gave {type(data)}")
        return bytes(data)


async def chunks_of(source: Source, first: bytes, chunk_size: int) -> AsyncIterator[tuple[bytes, bool]]:
    """The stream in chunks of ``chunk_size``, each with whether it is the last, reading one chunk ahead."""
    pending = first + await source.read_up_to(max(0, chunk_size - len(first)))
    while True:
        following = await source.read_up_to(chunk_size)
        yield pending, not following
        if not following:
            return
        pending = following
