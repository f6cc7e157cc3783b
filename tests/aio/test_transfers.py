"""The asyncio client's managed transfers are asyncio's own: parts and ranges are tasks, at most max_concurrency
at once; a cancelled or failed transfer leaves no multipart upload and no file; a range cut short is fetched
again from where it stopped."""

from __future__ import annotations

import asyncio
import base64
import io
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import IncompleteReadError

import s3crypt
import s3crypt.aio
from tests.test_transfer_download import open_files
from tests.vectors.test_vectors import VECTORS, keyring_for, load

pytestmark = pytest.mark.integration
MIB = 1024 * 1024
PARTS = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=2)


async def unhooked(client: Any) -> Any:
    """The client of s3crypt's own requests: a managed transfer's multipart calls and ranged reads."""
    return await client._s3crypt_resources.unhooked()


class InFlight:
    """Wraps one method of a client: counts the calls under way at once, each held a moment before it is sent (or,
    ``held_after``, once it has been answered) so they can overlap; ``started`` is set when call ``start_at`` is
    held."""

    def __init__(
        self, client: Any, name: str, monkeypatch: pytest.MonkeyPatch, *, held_after: bool = False, start_at: int = 1
    ) -> None:
        self._start_at = start_at
        self.most_at_once = 0
        self.calls = 0
        self.started = asyncio.Event()
        self._under_way = 0
        call: Callable[..., Awaitable[Any]] = getattr(client, name)

        async def counted(**kwargs: Any) -> Any:
            self.calls += 1
            self._under_way += 1
            self.most_at_once = max(self.most_at_once, self._under_way)
            try:
                if not held_after:
                    await self._held()
                response = await call(**kwargs)
                if held_after:
                    await self._held()
                return response
            finally:
                self._under_way -= 1

        monkeypatch.setattr(client, name, counted)

    async def _held(self) -> None:
        if self.calls >= self._start_at:
            self.started.set()
        await asyncio.sleep(0.05)


async def nothing_left(plain: Any, bucket: str) -> bool:
    uploads = await plain.list_multipart_uploads(Bucket=bucket)
    objects = await plain.list_objects_v2(Bucket=bucket)
    return "Uploads" not in uploads and "Contents" not in objects


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "source.bin"
    path.write_bytes(os.urandom(25 * MIB + 3))  # six parts of 5 MiB
    return path


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_parts_and_ranges_are_tasks_at_most_max_concurrency_at_once(
    aio_s3c: Any, bucket: str, source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, concurrency: int
) -> None:
    config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=concurrency)
    own = await unhooked(aio_s3c)
    parts = InFlight(own, "upload_part", monkeypatch)
    ranges = InFlight(own, "get_object", monkeypatch)
    progress: list[int] = []
    await aio_s3c.upload_file(str(source), bucket, "k", Callback=progress.append, Config=config)
    await aio_s3c.download_file(bucket, "k", str(tmp_path / "out"), Config=config)
    assert (tmp_path / "out").read_bytes() == source.read_bytes()
    assert sum(progress) == source.stat().st_size
    assert (parts.calls, ranges.calls) == (6, 6)
    assert (parts.most_at_once, ranges.most_at_once) == (concurrency, concurrency)


async def test_stream_parts_are_tasks_at_most_max_concurrency_at_once(
    aio_s3c: Any, bucket: str, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = InFlight(await unhooked(aio_s3c), "upload_part", monkeypatch)
    data = source.read_bytes()

    async def chunks() -> Any:
        for start in range(0, len(data), MIB):
            yield data[start : start + MIB]

    await aio_s3c.upload_fileobj(chunks(), bucket, "k", Config=PARTS)
    assert (parts.calls, parts.most_at_once) == (6, 2)
    out = io.BytesIO()
    await aio_s3c.download_fileobj(bucket, "k", out, Config=PARTS)
    assert out.getvalue() == data


@pytest.mark.parametrize(
    ("during", "held_after"),
    [("create_multipart_upload", False), ("create_multipart_upload", True), ("upload_part", False)],
    ids=["before-creation", "creation-answered", "parts"],
)
async def test_a_cancelled_upload_leaves_no_multipart_upload(
    aio_s3c: Any,
    aio_plain: Any,
    bucket: str,
    source: Path,
    monkeypatch: pytest.MonkeyPatch,
    during: str,
    held_after: bool,
) -> None:
    call = InFlight(await unhooked(aio_s3c), during, monkeypatch, held_after=held_after)
    task = asyncio.create_task(aio_s3c.upload_file(str(source), bucket, "k", Config=PARTS))
    await call.started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await nothing_left(aio_plain, bucket)


async def test_a_cancelled_stream_upload_leaves_no_multipart_upload(
    aio_s3c: Any, aio_plain: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = InFlight(await unhooked(aio_s3c), "upload_part", monkeypatch)

    async def endless() -> Any:
        while True:
            yield os.urandom(MIB)

    task = asyncio.create_task(aio_s3c.upload_fileobj(endless(), bucket, "k", Config=PARTS))
    await parts.started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await nothing_left(aio_plain, bucket)


@pytest.mark.parametrize("method", ["download_file", "download_fileobj"])
async def test_a_cancelled_download_leaves_no_file(
    aio_s3c: Any, bucket: str, source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    await aio_s3c.upload_file(str(source), bucket, "k", Config=PARTS)
    ranges = InFlight(await unhooked(aio_s3c), "get_object", monkeypatch, start_at=3)  # once a range has arrived
    target = tmp_path / "out"
    out = io.BytesIO()
    descriptors = open_files()
    download = (
        aio_s3c.download_file(bucket, "k", str(target), Config=PARTS)
        if method == "download_file"
        else aio_s3c.download_fileobj(bucket, "k", out, Config=PARTS)
    )
    task = asyncio.create_task(download)
    await ranges.started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [path.name for path in tmp_path.iterdir()] == ["source.bin"]
    assert out.getvalue() == b""
    assert open_files() <= descriptors


async def test_a_failed_part_of_a_stream_aborts_and_reads_no_further(aio_s3c: Any, aio_plain: Any, bucket: str) -> None:
    def fail_second(params: dict[str, Any], **_: Any) -> None:
        if params["PartNumber"] == 2:
            raise ConnectionResetError("injected")

    (await unhooked(aio_s3c)).meta.events.register("provide-client-params.s3.UploadPart", fail_second)
    read = {"chunks": 0}

    async def endless() -> Any:
        while True:
            read["chunks"] += 1
            yield os.urandom(MIB)

    with pytest.raises(ConnectionResetError, match="injected"):
        await aio_s3c.upload_fileobj(endless(), bucket, "k", Config=PARTS)
    assert await nothing_left(aio_plain, bucket)
    assert read["chunks"] < 40  # the stream is not read to its (missing) end once a part has failed


class CutShort:
    """Cuts the bodies of the first ``times`` GetObject responses of s3crypt's own reads after ``keep`` bytes:
    the body ends early, or fails as aiohttp fails a payload cut short."""

    def __init__(self, client: Any, times: int, keep: int, how: str) -> None:
        self.remaining = times
        self.keep = keep
        self.how = how
        self.ranges: list[str] = []
        client.meta.events.register("before-call.s3.GetObject", self.record)
        client.meta.events.register("after-call.s3.GetObject", self.cut)

    def record(self, params: dict[str, Any], **_: Any) -> None:
        self.ranges.append(params["headers"]["Range"])

    def cut(self, parsed: dict[str, Any], **_: Any) -> None:
        if self.remaining:
            self.remaining -= 1
            parsed["Body"] = _CutBody(parsed["Body"], self.keep, self.how)


class _CutBody:
    def __init__(self, body: Any, keep: int, how: str) -> None:
        self._body = body
        self._left = keep
        self._how = how

    async def read(self, amount: int | None = None) -> bytes:
        if not self._left:
            if self._how == "error":
                raise aiohttp.ClientPayloadError("injected: the response payload was cut short")
            return b""
        data: bytes = await self._body.read(min(amount or self._left, self._left))
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._body.close()


@pytest.mark.parametrize("how", ["ends", "error"])
async def test_a_range_cut_short_is_fetched_again_from_where_it_stopped(
    aio_s3c: Any, bucket: str, tmp_path: Path, how: str
) -> None:
    data = os.urandom(17 * MIB + 5)
    await aio_s3c.put_object(Bucket=bucket, Key="k", Body=data)
    cut = CutShort(await unhooked(aio_s3c), times=2, keep=3 * MIB, how=how)
    one_at_a_time = TransferConfig(multipart_chunksize=8 * MIB, max_concurrency=1)
    await aio_s3c.download_file(bucket, "k", str(tmp_path / "out"), Config=one_at_a_time)
    assert (tmp_path / "out").read_bytes() == data
    assert cut.ranges[:3] == [
        f"bytes=0-{8 * MIB - 1}",
        f"bytes={3 * MIB}-{8 * MIB - 1}",
        f"bytes={6 * MIB}-{8 * MIB - 1}",
    ]
    assert len(cut.ranges) == 5


async def test_a_range_cut_short_too_often_fails_and_leaves_the_target_as_it_was(
    aio_s3c: Any, bucket: str, tmp_path: Path
) -> None:
    await aio_s3c.put_object(Bucket=bucket, Key="k", Body=os.urandom(9 * MIB))
    target = tmp_path / "target"
    target.write_bytes(b"before")
    CutShort(await unhooked(aio_s3c), times=3, keep=MIB, how="ends")
    config = TransferConfig(num_download_attempts=3, max_concurrency=1)
    with pytest.raises(IncompleteReadError):
        await aio_s3c.download_file(bucket, "k", str(target), Config=config)
    assert target.read_bytes() == b"before"
    assert [path.name for path in tmp_path.iterdir()] == ["target"]


async def test_download_fileobj_takes_an_async_write(aio_s3c: Any, bucket: str) -> None:
    data = os.urandom(11 * MIB + 7)
    await aio_s3c.put_object(Bucket=bucket, Key="k", Body=data)

    class AsyncFile:
        def __init__(self) -> None:
            self.written = io.BytesIO()

        async def write(self, chunk: bytes) -> int:
            await asyncio.sleep(0)
            return self.written.write(chunk)

    out = AsyncFile()
    progress: list[int] = []
    await aio_s3c.download_fileobj(bucket, "k", out, Callback=progress.append, Config=PARTS)
    assert out.written.getvalue() == data
    assert sum(progress) == len(data)


class _SlowBody:
    """A body whose every read waits a moment first, so the pass sees each chunk arrive."""

    def __init__(self, body: Any) -> None:
        self._body = body

    async def read(self, amount: int | None = None) -> bytes:
        await asyncio.sleep(0.005)
        data: bytes = await self._body.read(amount)
        return data

    def close(self) -> None:
        self._body.close()


def _slowed(parsed: dict[str, Any], **_: Any) -> None:
    parsed["Body"] = _SlowBody(parsed["Body"])


TINY_RANGES = TransferConfig(multipart_threshold=1, multipart_chunksize=48, io_chunksize=16, max_concurrency=3)
"""Ranges of 48 bytes read 16 at a time: the content's end and the tag arrive apart."""


@pytest.mark.parametrize("vector", ["legacy-v1-cbc-aes-ecb", "aes-v3-metadata-reference"])
async def test_small_ranges_of_any_suite_decrypt_in_one_pass(
    connection: dict[str, Any], aio_plain: Any, bucket: str, tmp_path: Path, vector: str
) -> None:
    (path,) = (path for path in VECTORS if path.stem == vector)
    stored = load(path)
    body = base64.b64decode(stored["body"])
    await aio_plain.put_object(Bucket=bucket, Key="k", Body=body, Metadata=stored["metadata"])
    legacy = {"enable_legacy_unauthenticated_modes": True, "enable_legacy_wrapping_algorithms": True}
    options = {**legacy, "commitment_policy": s3crypt.CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT}
    async with s3crypt.aio.create_client("s3", keyring=keyring_for(stored, None), **options, **connection) as s3:
        (await unhooked(s3)).meta.events.register("after-call.s3.GetObject", _slowed)
        context = {"EncryptionContext": stored["encryption_context"]}
        await s3.download_file(bucket, "k", str(tmp_path / "out"), ExtraArgs=context, Config=TINY_RANGES)
        out = io.BytesIO()
        await s3.download_fileobj(bucket, "k", out, ExtraArgs=context, Config=TINY_RANGES)
    plaintext = base64.b64decode(stored["plaintext"])
    assert (tmp_path / "out").read_bytes() == plaintext
    assert out.getvalue() == plaintext
    assert len(body) > 3 * 48


async def test_an_async_source_of_anything_but_bytes_is_refused(aio_s3c: Any, aio_plain: Any, bucket: str) -> None:
    async def text() -> Any:
        yield b"bytes first, "
        yield "then text"

    class TextFile:
        async def read(self, size: int = -1) -> str:
            return "text"

    for source in (text(), TextFile()):
        with pytest.raises(s3crypt.InvalidParameterError, match="Fileobj"):
            await aio_s3c.upload_fileobj(source, bucket, "k")
    assert await nothing_left(aio_plain, bucket)
