"""Reading and closing aiobotocore bodies of either HTTP backend (aiohttp, httpx)."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import aiohttp
from botocore.exceptions import ResponseStreamingError


async def read(body: Any, size: int | None = None) -> bytes:
    """``body.read(size)``, a body cut short raising botocore's ``ResponseStreamingError`` as a sync body does
    (aiobotocore lets aiohttp's ``ClientPayloadError`` through), so retries of ranges cut short apply."""
    try:
        data: bytes = await body.read(size)
    except aiohttp.ClientPayloadError as error:
        raise ResponseStreamingError(error=error) from error
    return data


async def read_up_to(body: Any, size: int) -> bytes:
    """``size`` bytes of an aiobotocore body, or fewer if it ends first."""
    parts = []
    while size and (data := await read(body, size)):
        parts.append(data)
        size -= len(data)
    return parts[0] if len(parts) == 1 else b"".join(parts)


_closing: set[asyncio.Future[Any]] = set()
"""Closes under way, kept so they are not collected before they finish."""


def close_soon(body: Any) -> None:
    """Close an aiobotocore body from sync code on the loop: aiohttp's ``close`` is sync, httpx's a coroutine."""
    closing = body.close()
    if inspect.isawaitable(closing):
        future = asyncio.ensure_future(closing)
        _closing.add(future)
        future.add_done_callback(_closing.discard)
