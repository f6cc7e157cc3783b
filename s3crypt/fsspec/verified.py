"""Verified objects: an encrypted object read once, its GCM tag checked, then served by byte range.

Parquet readers read an object's footer, then its columns, through two or three opens. Each open here takes
its bytes from the same :class:`VerifiedObject`, fetched and verified once per (bucket, key, version or ETag)
and kept by the filesystem in :class:`VerifiedObjects`. A verified object keeps its first
``decrypt_memory_limit`` bytes of plaintext in memory and the rest as the object's own ciphertext in an
anonymous temporary file (never plaintext on disk), which it decrypts with AES-CTR at any offset.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

from s3crypt._crypto.content import ContentCipher, content_cipher
from s3crypt._crypto.decryption import check_tag, content_length, ctr_at, gcm_decryptor
from s3crypt._crypto.suites import GCM_TAG_LENGTH, AlgorithmSuite
from s3crypt._errors import DecryptionError

_BLOCK = 16


class VerifiedObject:
    """The plaintext of one GCM object (content || tag), fed its ciphertext in order by :meth:`feed`; nothing
    can be read from it before :meth:`finish` has checked the tag."""

    def __init__(self, cipher: ContentCipher, ciphertext_length: int, memory_limit: int) -> None:
        self.size = content_length(ciphertext_length)
        self._cipher = cipher
        self._in_memory = min(self.size, memory_limit - memory_limit % _BLOCK)
        self._plaintext = bytearray(self._in_memory + _BLOCK)
        self._spool = tempfile.TemporaryFile() if self.size > self._in_memory else None  # noqa: SIM115
        self._scratch = bytearray()
        self._decryptor = gcm_decryptor(cipher)
        self._received = 0
        self._tag = b""
        self.verified = False

    @property
    def footprint(self) -> int:
        """Bytes it holds in memory and on disk."""
        return self.size

    def feed(self, chunk: bytes) -> None:
        """The next bytes of the object's ciphertext."""
        view = memoryview(chunk)
        content = max(0, min(len(view), self.size - self._received))
        data, self._tag = view[:content], self._tag + bytes(view[content:])
        if len(self._tag) > GCM_TAG_LENGTH:
            raise DecryptionError("S3 sent more bytes than the object holds")
        memory = max(0, min(content, self._in_memory - self._received))
        if memory:
            self._decryptor.update_into(data[:memory], memoryview(self._plaintext)[self._received :])
        if content > memory:
            rest = data[memory:]
            assert self._spool is not None
            self._spool.write(rest)
            if len(self._scratch) < len(rest) + _BLOCK:
                self._scratch = bytearray(len(rest) + _BLOCK)
            self._decryptor.update_into(rest, self._scratch)
        self._received += content

    def finish(self) -> None:
        """Check the tag; the object is readable only once it verified."""
        if self._received != self.size or len(self._tag) != GCM_TAG_LENGTH:
            raise DecryptionError("the object's body ended early: it was truncated; no plaintext was released")
        check_tag(self._decryptor, self._tag, "no plaintext was released")
        del self._plaintext[self._in_memory :]
        if self._spool is not None:
            self._spool.flush()
        self._scratch = bytearray()
        self.verified = True

    def read(self, start: int, end: int) -> bytes:
        """Plaintext bytes ``[start, end)`` (cut at the object's end); safe from several threads at once."""
        if not self.verified:
            raise DecryptionError("the object has not been authenticated")
        start, end = max(0, start), min(end, self.size)
        if start >= end:
            return b""
        head = bytes(self._plaintext[start : min(end, self._in_memory)]) if start < self._in_memory else b""
        spool_start = max(start, self._in_memory)
        if end <= spool_start:
            return head
        assert self._spool is not None
        ciphertext = os.pread(self._spool.fileno(), end - spool_start, spool_start - self._in_memory)
        if len(ciphertext) != end - spool_start:
            raise DecryptionError("the spooled ciphertext ended early: the temporary file was altered")
        return head + ctr_at(self._cipher, spool_start).update(ciphertext)

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()


class DecryptedCopy(VerifiedObject):
    """A verified object built from plaintext the client decrypted (a legacy CBC object, which has no tag to
    check: its padding is what the client checked): past the memory bound it is spooled encrypted under a key
    of its own, made for it and kept in memory only, so no plaintext reaches the disk either."""

    def __init__(self, size: int, memory_limit: int) -> None:
        ephemeral = AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF
        super().__init__(content_cipher(ephemeral, os.urandom(32), os.urandom(12)), size + GCM_TAG_LENGTH, memory_limit)

    def feed(self, chunk: bytes) -> None:
        """The next bytes of plaintext."""
        if self._received + len(chunk) > self.size:
            raise DecryptionError("the object holds more plaintext than its metadata records")
        memory = max(0, min(len(chunk), self._in_memory - self._received))
        self._plaintext[self._received : self._received + memory] = chunk[:memory]
        if len(chunk) > memory:
            assert self._spool is not None
            self._spool.write(ctr_at(self._cipher, self._received + memory).update(chunk[memory:]))
        self._received += len(chunk)

    def finish(self) -> None:
        if self._received != self.size:
            raise DecryptionError("the object holds less plaintext than its metadata records")
        del self._plaintext[self._in_memory :]
        if self._spool is not None:
            self._spool.flush()
        self.verified = True


class VerifiedObjects:
    """Verified objects by key, at most ``capacity`` bytes of them (the latest is kept whatever its size);
    concurrent requests for one object make one fetch."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._objects: OrderedDict[Hashable, asyncio.Future[VerifiedObject]] = OrderedDict()

    async def get(self, key: Hashable, fetch: Callable[[], Awaitable[VerifiedObject]]) -> VerifiedObject:
        future = self._objects.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._objects[key] = future
            try:
                future.set_result(await fetch())
            except BaseException as error:
                del self._objects[key]
                future.set_exception(error)
                future.exception()  # retrieved: the waiters, if any, raise it themselves
                raise
            self._evict()
        self._objects.move_to_end(key)
        return await asyncio.shield(future)

    def _evict(self) -> None:
        """Drop the least recently used objects beyond the capacity; an open file keeps its own alive."""
        done = [(key, future.result()) for key, future in self._objects.items() if future.done()]
        total = sum(found.footprint for _, found in done)
        for key, _found in done[:-1]:
            if total <= self.capacity:
                break
            total -= self._objects.pop(key).result().footprint

    def clear(self) -> None:
        self._objects.clear()
