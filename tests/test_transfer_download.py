"""Managed downloads: ranges as TransferConfig asks, a range cut short fetched again from where it stopped, and
nothing left behind by a failure."""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import IncompleteReadError
from botocore.response import StreamingBody

import s3crypt
from s3crypt._operations.unhooked import unhooked
from tests.conftest import BUCKET

pytestmark = pytest.mark.front_ends  # each test runs on the sync and the asyncio client

MIB = 1024 * 1024
SIZE = 17 * MIB + 5
"""Plaintext; the object holds 16 bytes more (the GCM tag)."""


@pytest.fixture
def data(s3c: Any) -> bytes:
    body = os.urandom(SIZE)
    s3c.put_object(Bucket=BUCKET, Key="big", Body=body)
    return body


def record_ranges(client: Any) -> list[str]:
    """The Range header of every GetObject the client sends, in order."""
    ranges: list[str] = []

    def record(params: Any, **_: Any) -> None:
        ranges.append(params["headers"]["Range"])

    unhooked(client).meta.events.register("before-call.s3.GetObject", record)  # s3crypt's own reads
    return ranges


def expected_ranges(part: int) -> list[str]:
    size = SIZE + 16
    return [f"bytes={start}-{min(start + part, size) - 1}" for start in range(0, size, part)]


@pytest.mark.parametrize(
    ("config", "part"),
    [(None, 8 * MIB), (TransferConfig(multipart_chunksize=5 * MIB), 5 * MIB), (TransferConfig(), 8 * MIB)],
    ids=["default", "5-MiB", "default-config"],
)
def test_ranges_follow_multipart_chunksize(
    s3c: Any, data: bytes, tmp_path: Path, config: TransferConfig | None, part: int
) -> None:
    ranges = record_ranges(s3c)
    progress: list[int] = []
    s3c.download_file(BUCKET, "big", str(tmp_path / "out"), Callback=progress.append, Config=config)
    assert (tmp_path / "out").read_bytes() == data
    assert sorted(ranges, key=lambda header: int(header[6:].split("-")[0])) == expected_ranges(part)
    assert sum(progress) == SIZE


def test_an_object_below_the_threshold_is_one_get(s3c: Any, data: bytes) -> None:
    ranges = record_ranges(s3c)
    out = io.BytesIO()
    s3c.download_fileobj(BUCKET, "big", out, Config=TransferConfig(multipart_threshold=64 * MIB))
    assert out.getvalue() == data
    assert ranges == [f"bytes=0-{SIZE + 16 - 1}"]


class CutShort:
    """Cuts the body of the first ``times`` GetObject responses short, after ``keep`` bytes."""

    def __init__(self, client: Any, times: int, keep: int) -> None:
        self.remaining = times
        self.keep = keep
        unhooked(client).meta.events.register("after-call.s3.GetObject", self.cut)

    def cut(self, parsed: Any, **_: Any) -> None:
        if self.remaining:
            self.remaining -= 1
            body = parsed["Body"]
            parsed["Body"] = StreamingBody(io.BytesIO(body.read(self.keep)), parsed["ContentLength"])
            body.close()


@pytest.mark.sync_only  # it hooks a sync body into the response
def test_a_range_cut_short_is_fetched_again_from_where_it_stopped(s3c: Any, data: bytes, tmp_path: Path) -> None:
    ranges = record_ranges(s3c)
    CutShort(s3c, times=2, keep=3 * MIB)
    one_at_a_time = TransferConfig(multipart_chunksize=8 * MIB, max_concurrency=1)
    s3c.download_file(BUCKET, "big", str(tmp_path / "out"), Config=one_at_a_time)
    assert (tmp_path / "out").read_bytes() == data
    assert ranges[:3] == [f"bytes=0-{8 * MIB - 1}", f"bytes={3 * MIB}-{8 * MIB - 1}", f"bytes={6 * MIB}-{8 * MIB - 1}"]
    assert len(ranges) == 5


@pytest.mark.sync_only  # it hooks a sync body into the response
def test_a_range_cut_short_too_often_fails_and_leaves_the_target_as_it_was(
    s3c: Any, data: bytes, tmp_path: Path
) -> None:
    target = tmp_path / "target"
    target.write_bytes(b"before")
    CutShort(s3c, times=3, keep=MIB)
    with pytest.raises(IncompleteReadError):
        s3c.download_file(BUCKET, "big", str(target), Config=TransferConfig(num_download_attempts=3, max_concurrency=1))
    assert target.read_bytes() == b"before"
    assert os.listdir(tmp_path) == ["target"]


def open_files() -> int:
    """The process's descriptors of files (temporary files included), leaving out sockets and pipes, which the
    clients' connection pools open and keep as they please."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(FileNotFoundError):  # the listing's own descriptor, closed by now
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("/")
    return count


def test_a_failed_range_stops_the_download_and_leaves_nothing(s3c: Any, data: bytes, tmp_path: Path) -> None:
    ranges = record_ranges(s3c)

    def fail(**_: Any) -> None:
        raise RuntimeError("injected")

    unhooked(s3c).meta.events.register("before-send.s3.GetObject", fail)
    descriptors = open_files()
    config = TransferConfig(multipart_chunksize=5 * MIB, max_concurrency=1)
    with pytest.raises(RuntimeError, match="injected"):
        s3c.download_file(BUCKET, "big", str(tmp_path / "out"), Config=config)
    assert os.listdir(tmp_path) == []
    out = io.BytesIO()
    with pytest.raises(RuntimeError, match="injected"):
        s3c.download_fileobj(BUCKET, "big", out, Config=config)
    assert out.getvalue() == b""
    assert len(ranges) == 2, "ranges were fetched after one failed"
    assert open_files() <= descriptors, "a temporary file was left open"


def test_a_tampered_download_fileobj_closes_its_spool(s3c: Any, plain_s3: Any, data: bytes) -> None:
    stored = plain_s3.get_object(Bucket=BUCKET, Key="big")
    ciphertext = bytearray(stored["Body"].read())
    ciphertext[-1] ^= 1  # the tag
    plain_s3.put_object(Bucket=BUCKET, Key="big", Body=bytes(ciphertext), Metadata=stored["Metadata"])
    descriptors = open_files()
    out = io.BytesIO()
    with pytest.raises(s3crypt.DecryptionError, match="nothing was written"):
        s3c.download_fileobj(BUCKET, "big", out)
    assert out.getvalue() == b""
    assert open_files() <= descriptors


class ReadSizes:
    """Records the size of every read of a GetObject body, and how many reads were under way at once."""

    def __init__(self, client: Any) -> None:
        self.sizes: list[int] = []
        self.most_at_once = 0
        self._under_way = 0
        self._lock = threading.Lock()
        unhooked(client).meta.events.register("after-call.s3.GetObject", self.wrap)

    def wrap(self, parsed: Any, **_: Any) -> None:
        body = parsed["Body"]
        reads = self

        class Recorded:
            def read(self, amount: int | None = None) -> bytes:
                with reads._lock:
                    reads.sizes.append(-1 if amount is None else amount)
                    reads._under_way += 1
                    reads.most_at_once = max(reads.most_at_once, reads._under_way)
                time.sleep(0.002)  # long enough for the other threads' reads to overlap this one
                try:
                    return body.read(amount)  # type: ignore[no-any-return]
                finally:
                    with reads._lock:
                        reads._under_way -= 1

            def close(self) -> None:
                body.close()

        parsed["Body"] = Recorded()


@pytest.mark.sync_only  # it hooks a sync body into the response
def test_bodies_are_read_in_io_chunksize_and_at_most_max_io_queue_at_once(s3c: Any, data: bytes) -> None:
    reads = ReadSizes(s3c)
    out = io.BytesIO()
    config = TransferConfig(multipart_chunksize=5 * MIB, io_chunksize=256 * 1024, max_io_queue=2)
    s3c.download_fileobj(BUCKET, "big", out, Config=config)
    assert out.getvalue() == data
    assert max(reads.sizes) == 256 * 1024
    assert min(reads.sizes) > 0
    assert reads.most_at_once == 2


@pytest.mark.sync_only  # it hooks a sync body into the response
def test_reads_overlap_up_to_max_concurrency(s3c: Any, data: bytes) -> None:
    """The counterpart of the test above: without a max_io_queue below it, the ranges' reads do overlap."""
    reads = ReadSizes(s3c)
    s3c.download_fileobj(BUCKET, "big", io.BytesIO(), Config=TransferConfig(multipart_chunksize=5 * MIB))
    assert reads.most_at_once > 2
