"""The body an asyncio put or part sends: the encrypting stream, as both botocore and the HTTP client read it.

botocore reads the body synchronously on the loop (its CRC32 header checksum, its SHA-256 signature, the
aws-chunked wrapper of a trailing checksum) and rewinds it with a synchronous ``seek`` to retry. aiohttp and
httpx send an async iterable by iterating it, and httpx cannot send a sync file-like body at all; so the body
offers both, and its async iteration encrypts in a worker thread.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

from s3crypt._crypto.streams import CHUNK_SIZE, EncryptingStream


class SentBody:
    """An :class:`EncryptingStream` with sync ``read``/``seek``/``tell``/``len`` and async iteration."""

    def __init__(self, stream: EncryptingStream) -> None:
        self._stream = stream

    def __len__(self) -> int:
        return len(self._stream)

    def read(self, size: int | None = -1) -> bytes:
        return self._stream.read(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()

    def seekable(self) -> bool:
        return self._stream.seekable()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while chunk := await asyncio.to_thread(self._stream.read, CHUNK_SIZE):
            yield chunk


def send_async(params: dict[str, Any], **_: Any) -> None:
    """``before-call`` of PutObject and UploadPart, after s3crypt's own: give an encrypting body both faces."""
    body = params.get("body")
    if isinstance(body, EncryptingStream):
        params["body"] = SentBody(body)
