"""Managed downloads: ranges written where they belong in a file as they arrive, then one sequential pass.

Ranged GETs of the ciphertext run on ``max_concurrency`` threads, each streaming its body in ``io_chunksize``
chunks straight to the chunk's offset in a file, so memory holds a few chunks whatever the range size. The
calling thread follows the bytes that have arrived contiguously from the start, and authenticates them in one
sequential pass, overlapping the downloads:

- ``download_file``: the file is a temporary file beside the target; the pass decrypts it in place (plaintext
  over ciphertext), checks the tag, cuts the tag off and renames the file into place;
- ``download_fileobj``: the file is an anonymous temporary file holding ciphertext only; the pass checks the
  tag, then a second pass decrypts it (AES-CTR) into the caller's file object.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import IncompleteReadError
from s3transfer.utils import S3_RETRYABLE_DOWNLOAD_ERRORS

from s3crypt.crypto.content import ContentCipher
from s3crypt.crypto.streams import CHUNK_SIZE, DelayedAuthReader, RangeReader, plaintext_reader
from s3crypt.crypto.suites import GCM_TAG_LENGTH
from s3crypt.operations.get import object_cipher
from s3crypt.operations.instruction import completed, take_suffix
from s3crypt.operations.params import RAW, encryption_context_for

Callback = Callable[[int], Any] | None
GetRange = Callable[[int, int], Any]
"""Starts a ranged GET of bytes ``[start, end)``; returns its streaming body."""

_NOTHING_WRITTEN = "the download's temporary file was removed and the target left as it was"
_NOTHING_RELEASED = "nothing was written to the file object"


class Arrivals:
    """Bytes ``[0, size)`` of an object, fetched in ranges by a pool of threads and written at their offsets in ``fd``.

    A range cut short is fetched again from where it stopped, up to ``num_download_attempts`` times in all.
    :meth:`wait_beyond` tells how far the bytes have arrived contiguously from the start; the first error of any
    range is raised there.
    """

    def __init__(self, get_range: GetRange, fd: int, size: int, config: TransferConfig) -> None:
        self.size = size
        self._get_range = get_range
        self._fd = fd
        self._attempts = max(1, config.num_download_attempts)
        self._io_chunk = max(1, config.io_chunksize)
        self._io_slots = threading.BoundedSemaphore(max(1, config.max_io_queue_size))  # chunks read and not yet written
        part = config.multipart_chunksize if size >= config.multipart_threshold else max(size, 1)
        self._starts = list(range(0, size, max(1, part)))
        self._ends = [*self._starts[1:], size]
        self._written = list(self._starts)  # how far each range has been written, from its start
        self._frontier = 0  # the first range not yet whole
        self._error: BaseException | None = None
        self._stopped = threading.Event()
        self._arrived = threading.Condition()
        concurrency = max(1, config.max_request_concurrency) if config.use_threads else 1
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="s3crypt-download")
        for index in range(len(self._starts)):
            self._pool.submit(self._fetch, index)

    def wait_beyond(self, offset: int) -> int:
        """Wait until bytes past ``offset`` have arrived; how far they have arrived contiguously (``size`` at most)."""
        with self._arrived:
            while True:
                if self._error is not None:
                    raise self._error
                contiguous = self._contiguous()
                if contiguous > offset or contiguous == self.size:
                    return contiguous
                self._arrived.wait()

    def _contiguous(self) -> int:
        while self._frontier < len(self._starts) and self._written[self._frontier] == self._ends[self._frontier]:
            self._frontier += 1
        return self.size if self._frontier == len(self._starts) else self._written[self._frontier]

    def _fetch(self, index: int) -> None:
        try:
            self._fetch_range(index)
        except BaseException as error:
            with self._arrived:
                self._error = self._error or error
                self._stopped.set()
                self._arrived.notify_all()

    def _fetch_range(self, index: int) -> None:
        # botocore retries a request, not the reading of its body: a range cut short is fetched again, from where
        # it stopped, as s3transfer does, up to num_download_attempts times.
        end = self._ends[index]
        attempt = 1
        while self._written[index] < end and not self._stopped.is_set():
            try:
                self._stream(index, self._get_range(self._written[index], end))
            except S3_RETRYABLE_DOWNLOAD_ERRORS:
                if attempt >= self._attempts:
                    raise
                attempt += 1

    def _stream(self, index: int, body: Any) -> None:
        start = position = self._written[index]
        end = self._ends[index]
        try:
            while position < end and not self._stopped.is_set():
                with self._io_slots:
                    data = body.read(min(self._io_chunk, end - position))
                    if not data:
                        raise IncompleteReadError(actual_bytes=position - start, expected_bytes=end - start)
                    _write_at(self._fd, data, position)
                position += len(data)
                with self._arrived:
                    self._written[index] = position
                    if index == self._frontier:
                        self._arrived.notify_all()
        finally:
            body.close()

    def close(self) -> None:
        """Stop fetching and wait for every thread: none may write to the file once this returns."""
        self._stopped.set()
        self._pool.shutdown(wait=True, cancel_futures=True)


class ArrivedReader:
    """The bytes of :class:`Arrivals` read in order from ``fd``, each read waiting until they have arrived."""

    def __init__(self, arrivals: Arrivals, fd: int) -> None:
        self._arrivals = arrivals
        self._fd = fd
        self._position = 0

    def read(self, size: int = -1, /) -> bytes:
        if self._position >= self._arrivals.size:
            return b""
        available = self._arrivals.wait_beyond(self._position) - self._position
        data = os.pread(self._fd, available if size < 0 else min(size, available), self._position)
        self._position += len(data)
        return data


class Downloads:
    """The managed downloads of one encrypting client, with ``ExtraArgs`` already checked."""

    def __init__(self, client: Any, config: Any) -> None:
        self._client = client
        self._config = config

    def download_file(
        self,
        bucket: str,
        key: str,
        filename: str | os.PathLike[str],
        args: dict[str, Any],
        callback: Callback,
        config: TransferConfig | None,
    ) -> None:
        target = os.fspath(filename)
        directory, name = os.path.split(os.path.abspath(target))
        size, cipher, get_range = self._prepare(bucket, key, args)
        temporary = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.s3crypt")
        # O_EXCL: never another's file; the umask applies, as for boto3's files.
        fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with _arrivals(get_range, fd, size, config) as arrived:
                if cipher.suite.is_legacy:  # CBC: no tag, decrypted only when the client opted into legacy modes
                    reader = plaintext_reader(arrived, size, cipher, delayed=True, memory_limit=0)
                else:  # plaintext over the ciphertext it came from; only a verified tag renames the file into place
                    reader = DelayedAuthReader(arrived, size, cipher, released=_NOTHING_WRITTEN)
                length = _decrypt_in_place(reader, fd, callback)  # the last read checks the tag
            os.ftruncate(fd, length)
            os.close(fd)
            fd = -1
            os.replace(temporary, target)
        except BaseException:
            if fd >= 0:
                os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.remove(temporary)
            raise

    def download_fileobj(
        self,
        bucket: str,
        key: str,
        fileobj: IO[bytes],
        args: dict[str, Any],
        callback: Callback,
        config: TransferConfig | None,
    ) -> None:
        size, cipher, get_range = self._prepare(bucket, key, args)
        with tempfile.TemporaryFile() as spool:
            fd = spool.fileno()
            with _arrivals(get_range, fd, size, config) as arrived:
                if cipher.suite.is_legacy:  # CBC has no tag to wait for
                    _copy(plaintext_reader(arrived, size, cipher, delayed=False, memory_limit=0), fileobj, callback)
                    return
                _authenticate(DelayedAuthReader(arrived, size, cipher, released=_NOTHING_RELEASED))
            spool.seek(0)
            _copy(RangeReader(spool, cipher, 0, 0, size - GCM_TAG_LENGTH), fileobj, callback)

    def _prepare(self, bucket: str, key: str, args: dict[str, Any]) -> tuple[int, ContentCipher, GetRange]:
        """The object's ciphertext size and content cipher, and a ranged GET pinned to this version of it."""
        args = dict(args)
        context = encryption_context_for(self._config, args.pop("EncryptionContext", None), bucket, key)
        suffix = take_suffix(args)
        head = self._client.head_object(Bucket=bucket, Key=key, **args)
        size: int = head["ContentLength"]
        stored_metadata = completed(self._client, bucket, key, suffix, head.get("Metadata") or {})
        cipher = object_cipher(self._config, stored_metadata, size, context)
        get_args = {**args, "IfMatch": head["ETag"], RAW: True}

        def get_range(start: int, end: int) -> Any:
            return self._client.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end - 1}", **get_args)["Body"]

        return size, cipher, get_range


@contextlib.contextmanager
def _arrivals(get_range: GetRange, fd: int, size: int, config: TransferConfig | None) -> Iterator[ArrivedReader]:
    arrivals = Arrivals(get_range, fd, size, config or TransferConfig())
    try:
        yield ArrivedReader(arrivals, fd)
    finally:
        arrivals.close()


def _decrypt_in_place(reader: Any, fd: int, callback: Callback) -> int:
    """Write the plaintext over the ciphertext it was read from (never ahead of the reading); its length."""
    written = 0
    while chunk := reader.read(CHUNK_SIZE):
        _write_at(fd, chunk, written)
        written += len(chunk)
        _report(callback, len(chunk))
    return written


def _authenticate(reader: Any) -> None:
    while reader.read(CHUNK_SIZE):  # the plaintext is dropped: it is decrypted again once the tag has verified
        pass


def _copy(reader: Any, out: IO[bytes], callback: Callback) -> None:
    while chunk := reader.read(CHUNK_SIZE):
        out.write(chunk)
        _report(callback, len(chunk))


def _write_at(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def _report(callback: Callback, amount: int) -> None:
    if callback is not None:
        callback(amount)
