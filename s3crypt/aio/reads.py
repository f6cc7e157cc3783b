"""Reading aiobotocore bodies whole: aiohttp's ``read(n)`` returns what has arrived, which may be less than n."""

from __future__ import annotations

from typing import Any


async def read_up_to(body: Any, size: int) -> bytes:
    """``size`` bytes of an aiobotocore body, or fewer if it ends first."""
    parts = []
    while size and (data := await body.read(size)):
        parts.append(data)
        size -= len(data)
    return parts[0] if len(parts) == 1 else b"".join(parts)
