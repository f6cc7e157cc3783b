"""Checks that a body s3crypt is to encrypt is bytes, with botocore's kind of error naming the parameter."""

from __future__ import annotations

import io
from typing import IO, Any

from s3crypt._errors import InvalidParameterError

BINARY = "bytes, bytearray, or a file-like object opened in binary mode (whose read() returns bytes)"


def binary_stream(stream: Any, parameter: str) -> IO[bytes]:
    """``stream`` if it reads bytes; a text-mode file or an object without ``read`` is refused at once, and a
    stream of unknown kind is checked as it is read."""
    if isinstance(stream, io.TextIOBase) or not callable(getattr(stream, "read", None)):
        raise InvalidParameterError(parameter, stream, BINARY)
    if isinstance(stream, (io.RawIOBase, io.BufferedIOBase)):
        return stream  # type: ignore[return-value]
    return _CheckedReads(stream, parameter)  # type: ignore[return-value]


class _CheckedReads:
    """A stream whose every read is checked to be bytes (an object of the caller's that may yield ``str``)."""

    def __init__(self, stream: Any, parameter: str) -> None:
        self._stream = stream
        self._parameter = parameter

    def read(self, size: int = -1, /) -> bytes:
        data = self._stream.read(size)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidParameterError(self._parameter, self._stream, f"{BINARY}; its read() returned {type(data)}")
        return bytes(data) if isinstance(data, memoryview) else data  # type: ignore[return-value]

    def __getattr__(self, name: str) -> Any:  # seek, tell, seekable, ... as the caller's stream has them
        return getattr(self._stream, name)
