"""The ciphertext of a get read ahead while its data key is unwrapped.

The response's body is already streaming when ``get_object``'s after-call asks KMS for the data key. Rather than
let the connection idle for the KMS round trip, the first chunks are read into memory meanwhile (at most
:data:`PREFETCH_LIMIT` bytes) and handed to the body's decryption first. A read that fails on the way is kept
and raised where the body is read past the chunks, as it would have been without the read-ahead.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable
from typing import Any, TypeVar

from s3crypt._crypto.streams import CHUNK_SIZE
from s3crypt.aio.reads import read

T = TypeVar("T")
PREFETCH_LIMIT = 8 * CHUNK_SIZE
"""The most ciphertext read ahead of the data key, in bytes."""


class Prefetched:
    """An aiobotocore body whose first bytes were read ahead: ``read`` serves them first."""

    def __init__(self, body: Any) -> None:
        self._body = body
        self._chunks: deque[bytes] = deque()
        self._error: BaseException | None = None
        self._ended = False

    async def read_while(self, pending: asyncio.Future[Any], limit: int) -> None:
        """Read chunks until ``pending`` is done, the body ends or fails, or ``limit`` bytes are held."""
        held = 0
        while not pending.done() and held < limit and not self._ended:
            try:
                chunk = await read(self._body, CHUNK_SIZE)
            except Exception as error:  # raised to whoever reads this far
                self._error = error
                return
            self._chunks.append(chunk)
            self._ended = not chunk
            held += len(chunk)

    async def read(self, size: int | None = None) -> bytes:
        if size is None or size < 0:
            held, self._chunks = b"".join(self._chunks), deque()
            return held + await self._rest()
        if self._chunks:
            chunk = self._chunks.popleft()
            if size is not None and 0 <= size < len(chunk):
                chunk, rest = chunk[:size], chunk[size:]
                self._chunks.appendleft(rest)
            return chunk
        return await self._rest(size)

    async def _rest(self, size: int | None = None) -> bytes:
        if self._error is not None:
            raise self._error
        return await read(self._body, size)

    def close(self) -> Any:
        self._chunks.clear()
        return self._body.close()

    async def aclose(self) -> None:
        self._chunks.clear()
        await self._body.aclose()


async def while_prefetching(body: Prefetched, work: Awaitable[T]) -> T:
    """The result of ``work``, ``body`` reading ahead meanwhile."""
    pending = asyncio.ensure_future(work)
    try:
        await body.read_while(pending, PREFETCH_LIMIT)
        return await pending
    finally:
        pending.cancel()
