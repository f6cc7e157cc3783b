"""What the managed transfers share: concurrency, reading, writing, the file a download lands in, and progress
callbacks."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from boto3.s3.transfer import TransferConfig

from s3crypt._core.transfers import temporary_beside

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


class Landing:
    """The file a download is written into (``fd``), and how long it is to be once complete (``length``)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.length = 0


@contextlib.contextmanager
def landing_beside(target: str) -> Iterator[Landing]:
    """A new temporary file beside ``target``, cut to its ``length`` and renamed onto ``target`` when the block
    ends without an error, removed otherwise: the target appears whole, or is left as it was.

    O_EXCL: never another's file; the umask applies, as for boto3's files.
    """
    temporary = temporary_beside(target, secrets.token_hex(6))
    landing = Landing(os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        yield landing
        os.ftruncate(landing.fd, landing.length)
        os.close(landing.fd)
        landing.fd = -1
        os.replace(temporary, target)
    except BaseException:
        if landing.fd >= 0:
            os.close(landing.fd)
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
