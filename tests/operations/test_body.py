"""The body get_object returns behaves as botocore's StreamingBody does, method by method."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.response import StreamingBody

from s3crypt._operations.get import PlaintextBody
from tests.conftest import BUCKET

CONTENT = b"first line\nsecond line\r\n" + bytes(range(256)) * 20 + b"\nlast"


def _readinto(body: Any) -> tuple[int, bytes]:
    buffer = bytearray(10)
    amount = body.readinto(buffer)
    return amount, bytes(buffer[:amount])


def _context_manager(body: Any) -> bytes:
    with body as stream:
        data: bytes = stream.read()
    return data


# What each public method of StreamingBody is asked to do; the result is compared with boto3's own body's.
CALLS: dict[str, Callable[[Any], Any]] = {
    "close": lambda body: (body.close(), body.closed),
    "closed": lambda body: body.closed,
    "fileno": lambda body: body.fileno(),
    "flush": lambda body: body.flush(),
    "isatty": lambda body: body.isatty(),
    "iter_chunks": lambda body: list(body.iter_chunks(100)),
    "iter_lines": lambda body: (list(body.iter_lines(7)), list(body.iter_lines(keepends=True))),
    "next": lambda body: (body.next(), next(body), list(body)),
    "read": lambda body: (body.read(0), body.read(5), body.read(), body.read()),
    "readable": lambda body: body.readable(),
    "readinto": lambda body: (_readinto(body), _readinto(body), body.read()),
    "readline": lambda body: (body.readline(), body.readline()),
    "readlines": lambda body: (body.readlines(), body.tell()),
    "seek": lambda body: body.seek(0),
    "seekable": lambda body: body.seekable(),
    "set_socket_timeout": lambda body: body.set_socket_timeout(5),
    "tell": lambda body: (body.tell(), body.read(7), body.tell(), list(body.iter_chunks()), body.tell()),
    "truncate": lambda body: body.truncate(),
    "writable": lambda body: body.writable(),
    "writelines": lambda body: body.writelines([b"x"]),
}


def outcome(call: Callable[[Any], Any], body: Any) -> Any:
    try:
        return call(body)
    except Exception as error:
        return type(error)


@pytest.mark.parametrize("method", sorted(name for name in dir(StreamingBody) if not name.startswith("_")))
def test_every_method_behaves_as_boto3s(s3c: Any, plain_s3: Any, method: str) -> None:
    assert method in CALLS, f"botocore's StreamingBody has a new method {method!r}: check PlaintextBody has it"
    s3c.put_object(Bucket=BUCKET, Key="encrypted", Body=CONTENT)
    plain_s3.put_object(Bucket=BUCKET, Key="plain", Body=CONTENT)
    ours = s3c.get_object(Bucket=BUCKET, Key="encrypted")["Body"]
    boto3s = plain_s3.get_object(Bucket=BUCKET, Key="plain")["Body"]
    assert isinstance(ours, PlaintextBody)
    assert outcome(CALLS[method], ours) == outcome(CALLS[method], boto3s)


def test_the_context_manager_reads_and_closes(s3c: Any) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=CONTENT)
    assert _context_manager(s3c.get_object(Bucket=BUCKET, Key="k")["Body"]) == CONTENT
