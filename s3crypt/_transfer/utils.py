"""What the managed transfers share: concurrency, reading, writing and progress callbacks."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from boto3.s3.transfer import TransferConfig

Callback = Callable[[int], Any] | None


@dataclass(frozen=True)
class Transfer:
    """What every managed transfer is given: the object, its checked ``ExtraArgs``, a progress callback, a config."""

    bucket: str
    key: str
    args: dict[str, Any]
    callback: Callback
    config: TransferConfig


def concurrency(config: TransferConfig) -> int:
    return max(1, config.max_request_concurrency) if config.use_threads else 1


def read_up_to(fileobj: IO[bytes], size: int) -> bytes:
    parts, remaining = [], size
    while remaining and (data := fileobj.read(remaining)):
        parts.append(data)
        remaining -= len(data)
    return b"".join(parts)


def write_at(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def report(callback: Callback, amount: int) -> None:
    if callback is not None:
        callback(amount)
