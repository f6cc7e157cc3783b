"""Small test doubles shared by several test modules."""

from __future__ import annotations

import io
from typing import Any


class Unseekable(io.RawIOBase):
    """A readable stream that cannot seek or tell: its length is unknown to botocore and to s3crypt."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)
