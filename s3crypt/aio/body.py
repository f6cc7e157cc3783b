"""The plaintext body of an asyncio ``get_object``: aiobotocore's body API over the sync client's decryptions.

:mod:`s3crypt._crypto.decryption` decides how a body is decrypted; this module only feeds it, so both clients
read alike. A body that streams (delayed authentication, a range, legacy CBC) is decrypted on the event loop as
each piece of ciphertext arrives: AES runs at GB/s, so a piece takes microseconds. An authenticated body must be
whole before its first byte is released: a small one (up to :data:`INLINE_LIMIT` bytes of ciphertext) is read
before ``get_object`` returns and decrypted on the loop; a larger one is authenticated in a worker thread, which
pulls the ciphertext from the loop (:class:`LoopSource`) and spools it past the memory limit, so the file I/O
and the bulk crypto stay off the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
from typing import Any, Protocol

from aiobotocore.response import AioStreamingBodyBase

from s3crypt._crypto.decryption import Decryption, Releases
from s3crypt._crypto.streams import CHUNK_SIZE
from s3crypt.aio.reads import close_soon, read, read_up_to

INLINE_LIMIT = CHUNK_SIZE
"""Authenticated responses up to this many bytes of ciphertext are read whole and decrypted on the event loop."""
_READ_AHEAD = 256 * 1024
"""The least plaintext a worker thread is asked for at once, so many small reads make few thread hops."""


class Plaintext(Protocol):
    async def read(self, size: int) -> bytes:
        """At most ``size`` bytes (``size >= 0``), ``b""`` only at the end."""

    def close(self) -> None: ...


class Streamed:
    """The plaintext of a decryption fed on the loop with the response's ciphertext as it arrives."""

    def __init__(self, decryption: Decryption, ciphertext: Any) -> None:
        self._releases = Releases(decryption)
        self._ciphertext = ciphertext

    async def read(self, size: int) -> bytes:
        while wanted := self._releases.wants(size):
            self._releases.push(await read(self._ciphertext, wanted))
        return self._releases.take(size)

    def close(self) -> None:
        """Nothing to free: the body closes the ciphertext's stream."""


class Inline:
    """The plaintext of a sync reader whose ciphertext is already in memory."""

    def __init__(self, reader: io.RawIOBase) -> None:
        self._reader = reader

    async def read(self, size: int) -> bytes:
        return self._reader.read(size) or b""

    def close(self) -> None:
        self._reader.close()


class Threaded:
    """The plaintext of a sync reader run in a worker thread, reading ahead at least :data:`_READ_AHEAD` bytes."""

    def __init__(self, reader: io.RawIOBase) -> None:
        self._reader = reader
        self._ahead = b""

    async def read(self, size: int) -> bytes:
        if not self._ahead and size:
            want = max(size, _READ_AHEAD)
            self._ahead = await asyncio.get_running_loop().run_in_executor(_pool(), self._reader.read, want)
        chunk, self._ahead = self._ahead[:size], self._ahead[size:]
        return chunk

    def close(self) -> None:
        self._ahead = b""
        self._reader.close()


class LoopSource:
    """A sync view, for a worker thread, of an aiobotocore body read on the event loop ``loop``.

    While the thread decrypts one chunk, the loop already fetches the next (one chunk ahead, so memory stays
    bounded), so the network and the crypto overlap.
    """

    def __init__(self, body: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._body = body
        self._loop = loop
        self._buffer = memoryview(b"")
        self._ahead: concurrent.futures.Future[bytes] | None = None

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes, ``b""`` only at the end. aiohttp's reads return what has arrived, often a few KiB:
        gathering whole chunks on the loop makes one thread hop per chunk, not one per network read."""
        if size < 0:
            rest = b"".join([bytes(self._buffer), self._fetched(), self._on_loop(read(self._body))])
            self._buffer = memoryview(b"")
            return rest
        if not self._buffer:
            self._buffer = memoryview(self._fetched())
            if self._buffer:
                self._ahead = asyncio.run_coroutine_threadsafe(read_up_to(self._body, CHUNK_SIZE), self._loop)
        data, self._buffer = bytes(self._buffer[:size]), self._buffer[size:]
        return data

    def _fetched(self) -> bytes:
        """The chunk fetched ahead, or a chunk fetched now."""
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            return self._on_loop(read_up_to(self._body, CHUNK_SIZE))
        return ahead.result()

    def _on_loop(self, read: Any) -> bytes:
        data: bytes = asyncio.run_coroutine_threadsafe(read, self._loop).result()
        return data

    def close(self) -> None:
        self._buffer = memoryview(b"")
        self._loop.call_soon_threadsafe(close_soon, self._body)


class AioPlaintextBody(AioStreamingBodyBase):  # type: ignore[misc]
    """The plaintext of a get: ``await read()``, ``iter_chunks``, ``iter_lines``, ``async with``, ``async for``.

    ``close`` is sync, as aiobotocore's is (s3fs calls it without ``await``); ``tell`` counts plaintext bytes.
    """

    def __init__(self, plaintext: Plaintext, length: int | None, ciphertext: Any) -> None:
        super().__init__(plaintext, length)
        self._plaintext = plaintext
        self._ciphertext = ciphertext
        self._closed = False

    def readable(self) -> bool:
        return not self._closed

    async def read(self, amt: int | None = None) -> bytes:
        """At most ``amt`` bytes of plaintext (all that is left without it); ``b""`` at the end."""
        if self._closed:
            raise ValueError("read of a closed body")
        if amt is None or amt < 0:
            chunk = b"".join([part async for part in self._chunks()])
        else:
            chunk = await self._plaintext.read(amt)
        self._amount_read += len(chunk)
        if amt is None or amt < 0 or (amt and not chunk):
            self._verify_content_length()
        return chunk

    async def _chunks(self) -> Any:
        while chunk := await self._plaintext.read(CHUNK_SIZE):
            yield chunk

    async def readinto(self, b: Any) -> int:
        data = await self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._closed = True
        self._plaintext.close()
        close_soon(self._ciphertext)

    async def aclose(self) -> None:
        self._closed = True
        self._plaintext.close()
        await self._ciphertext.aclose()


_threads: concurrent.futures.ThreadPoolExecutor | None = None


def _pool() -> concurrent.futures.ThreadPoolExecutor:
    """s3crypt's own worker threads for bodies, which wait on the loop for ciphertext: kept apart from the
    loop's default executor so they never hold up its other work (DNS lookups, ``asyncio.to_thread``)."""
    global _threads
    if _threads is None:
        _threads = concurrent.futures.ThreadPoolExecutor(32, thread_name_prefix="s3crypt-aio-body")
    return _threads
