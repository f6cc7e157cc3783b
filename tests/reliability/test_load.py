"""Load and concurrency against moto_server: 16 threads share one client; thousands of small objects.

``test_mixed_load`` runs 16 threads for a fixed time, each looping over a seeded random mix of puts and gets of
1 B to 1 MiB (each object under its own encryption context), gets whose ciphertext spools to a temporary file,
multipart uploads (completed and aborted), managed transfers, and calls that must fail. ``test_many_small_objects``
puts and gets back thousands of objects of up to 1 KiB. Every read is compared with the SHA-256 of what was
written. Afterwards no multipart upload may be left open, the process must hold exactly the file descriptors and
temporary files it held before, and its resident memory may have grown only a little between the end of a warm-up
phase and the end of the run, although the run moves many times that allowance through the client.

Both run a bounded version by default (CI) and the full one with ``S3CRYPT_RELIABILITY=full``; each prints one
line of figures (``pytest -s``) and records them with ``record_property``.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import gc
import hashlib
import io
import itertools
import os
import platform
import random
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

import s3crypt
from tests.helpers import send_parts_and_complete
from tests.reliability.conftest import scale

pytestmark = [
    pytest.mark.load,
    pytest.mark.integration,
    pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors and memory through /proc"),
    pytest.mark.usefixtures("own_tempdir", "steady_allocator"),
]

KIB = 1024
MIB = 1024 * KIB
THREADS = 16
SEED = 20_240_611
WARM_UP = scale(3, 15)
"""Seconds of load before memory is measured: the connection pools and the allocator reach their working size."""
DURATION = scale(8, 120)
SMALL_OBJECTS = scale(1_000, 10_000)
RSS_ALLOWANCE = 32 * MIB
SMALL_RSS_ALLOWANCE = 8 * MIB
GLIBC_DEFAULT_THRESHOLD = 128 * KIB
SPOOL_LIMIT = 256 * KIB
"""The decrypt_memory_limit of the spooling client: ciphertext past it goes to an anonymous temporary file."""
BATCH = 16 * THREADS
"""Objects queued at a time: a future for every object at once would fragment the heap that the test measures."""
LEDGER_CAPACITY = 256
"""Objects kept for reads by other threads; older ones are deleted so moto_server's memory stays bounded."""
POOL = Config(max_pool_connections=2 * THREADS)  # each thread's transfers add a second connection
TRANSFER = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=2)
WEIGHTS = {
    "put": 30,
    "get": 30,
    "spooled_get": 8,
    "multipart": 3,
    "aborted_multipart": 2,
    "fileobj_transfer": 4,
    "file_transfer": 4,
    "wrong_context": 8,
    "missing_key": 6,
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def rss() -> int:
    """The process's resident set size in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * KIB
    raise AssertionError("/proc/self/status has no VmRSS line")


def settled_rss() -> int:
    gc.collect()
    return rss()


class PeakRss:
    """The highest resident set size seen while it is entered, sampled every 20 ms on a thread of its own."""

    def __init__(self) -> None:
        self.peak = rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss())


@dataclass(frozen=True)
class Resources:
    """What a leak would leave behind: open descriptors, files in tempfile's directory and in the test's."""

    fds: int
    temp_files: int
    tmp_path_files: int

    @classmethod
    def count(cls, tmp_path: Path) -> Resources:
        gc.collect()  # objects in reference cycles close their files only when collected
        return cls(
            fds=len(os.listdir("/proc/self/fd")),
            temp_files=len(os.listdir(tempfile.gettempdir())),
            tmp_path_files=sum(len(files) for _, _, files in os.walk(tmp_path)),
        )


@pytest.fixture
def own_tempdir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory for tempfile's files that nothing else on the machine writes to, so they can be counted."""
    path = tmp_path_factory.mktemp("tempfile")
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return path


@pytest.fixture
def steady_allocator() -> None:
    """Make RSS measure the memory in use, which glibc's malloc otherwise hides under memory it keeps free.

    As large blocks are freed glibc raises its mmap threshold (up to 32 MiB) and its trim threshold (twice that),
    so that each of the arenas of 16 threads keeps tens of MiB of freed bodies: 100-200 MiB that no object holds,
    varying by 80 MiB between two quiet moments. Pinning both thresholds to their defaults hands freed large blocks
    back at once. It leaves the dynamic thresholds off for the rest of the session, which only costs speed.
    """
    if platform.libc_ver()[0] == "glibc":
        libc = ctypes.CDLL(None)
        for parameter in (-1, -3):  # M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
            assert libc.mallopt(parameter, GLIBC_DEFAULT_THRESHOLD) == 1


@contextmanager
def shared_clients(connection: dict[str, Any], key_id: str) -> Iterator[tuple[Any, Any]]:
    """The client every thread shares, and one sharing its keyring that spools all but 256 KiB of each get.

    Both are closed on exit, with their KMS client, so that their pooled connections count as no leak.
    """
    kms = boto3.client("kms", config=POOL, **connection)
    keyring = s3crypt.KmsKeyring(key_id, kms_client=kms)
    client = s3crypt.client("s3", keyring=keyring, config=POOL, **connection)
    spooling = s3crypt.client("s3", keyring=keyring, config=POOL, decrypt_memory_limit=SPOOL_LIMIT, **connection)
    try:
        yield client, spooling
    finally:
        for each in (client, spooling, kms):
            each.close()


def report(record_property: Callable[[str, object], None], name: str, figures: dict[str, object]) -> None:
    for figure, value in figures.items():
        record_property(figure, value)
    print(f"\n[{name}] " + " ".join(f"{figure}={value}" for figure, value in figures.items()))


def run_figures(
    seconds: float, operations: int, rss_before: int, rss_after: int, rss_peak: int, before: Resources, after: Resources
) -> dict[str, object]:
    """The figures every load test reports: its speed, its memory, and what a leak would have left behind."""
    return {
        "threads": THREADS,
        "seconds": f"{seconds:.1f}",
        "ops": operations,
        "ops_per_s": f"{operations / seconds:.1f}",
        "rss_before_mib": mib(rss_before),
        "rss_after_mib": mib(rss_after),
        "rss_growth_mib": mib(rss_after - rss_before),
        "peak_growth_mib": mib(rss_peak - rss_before),
        **{
            f"{resource.name}_{when}": getattr(counted, resource.name)
            for resource in fields(Resources)
            for when, counted in (("before", before), ("after", after))
        },
    }


def in_batches(pool: concurrent.futures.Executor, operation: Callable[[int], None], numbers: range) -> None:
    for start in range(numbers.start, numbers.stop, BATCH):
        list(pool.map(operation, range(start, min(start + BATCH, numbers.stop))))


def mib(size: int) -> str:
    return f"{size / MIB:.1f}"


@dataclass(frozen=True)
class Entry:
    key: str
    digest: str
    context: dict[str, str]


class Ledger:
    """The objects written and not yet deleted, with their SHA-256 and encryption context; thread-safe.

    A reader takes an object out while it reads it and gives it back after, so a writer that evicts objects to
    keep the bucket small never deletes one that is being read.
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._entries: dict[str, Entry] = {}
        self._lock = threading.Lock()

    def add(self, entry: Entry, rng: random.Random) -> Entry | None:
        """Record ``entry``; the one evicted to make room, which the caller deletes."""
        with self._lock:
            self._entries[entry.key] = entry
            if len(self._entries) <= self._capacity:
                return None
            return self._entries.pop(rng.choice(list(self._entries)))

    def take(self, rng: random.Random) -> Entry | None:
        with self._lock:
            return self._entries.pop(rng.choice(list(self._entries))) if self._entries else None

    def give_back(self, entry: Entry) -> None:
        with self._lock:
            self._entries[entry.key] = entry


class MixedLoad:
    """Threads looping over a seeded mix of operations on two shared clients; each operation checks its result.

    An operation returns the plaintext bytes it moved through the clients.
    """

    def __init__(self, client: Any, spooling: Any, bucket: str, files: Path) -> None:
        self.client = client
        self.spooling = spooling
        self.bucket = bucket
        self.files = files
        self.ledger = Ledger(LEDGER_CAPACITY)
        self._serial = itertools.count()
        self._rngs = [random.Random(SEED + index) for index in range(THREADS)]
        self._failed = threading.Event()
        self._operations: list[Callable[[random.Random], int]] = [getattr(self, name) for name in WEIGHTS]

    def run(self, seconds: float) -> tuple[Counter[str], int]:
        """Run the threads for ``seconds``; the operations done, by name, and the bytes they moved."""
        deadline = time.monotonic() + seconds
        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(self._worker, rng, deadline) for rng in self._rngs]
            results = [future.result() for future in futures]
        done: Counter[str] = Counter()
        for operations, _ in results:
            done.update(operations)
        return done, sum(moved for _, moved in results)

    def _worker(self, rng: random.Random, deadline: float) -> tuple[Counter[str], int]:
        done: Counter[str] = Counter()
        moved = 0
        while time.monotonic() < deadline and not self._failed.is_set():
            operation = rng.choices(self._operations, list(WEIGHTS.values()))[0]
            try:
                moved += operation(rng)
            except BaseException:
                self._failed.set()  # stop the other threads: the first failure fails the test
                raise
            done[operation.__name__] += 1
        return done, moved

    def _new(self, kind: str) -> tuple[str, dict[str, str]]:
        key = f"{kind}-{next(self._serial)}"
        return key, {"object": key}

    def _get(self, client: Any, key: str, context: dict[str, str]) -> bytes:
        with client.get_object(Bucket=self.bucket, Key=key, EncryptionContext=context)["Body"] as body:
            data: bytes = body.read()
        return data

    def _delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def put(self, rng: random.Random) -> int:
        key, context = self._new("put")
        body = rng.randbytes(rng.randint(1, 4 * KIB) if rng.random() < 0.5 else rng.randint(4 * KIB, MIB))
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, EncryptionContext=context)
        evicted = self.ledger.add(Entry(key, sha256(body), context), rng)
        if evicted is not None:
            self._delete(evicted.key)
        return len(body)

    def get(self, rng: random.Random) -> int:
        entry = self.ledger.take(rng)
        if entry is None:
            return 0
        try:
            data = self._get(self.client, entry.key, entry.context)
        finally:
            self.ledger.give_back(entry)
        assert sha256(data) == entry.digest, f"{entry.key} came back altered"
        return len(data)

    def spooled_get(self, rng: random.Random) -> int:
        key, context = self._new("spooled")
        body = rng.randbytes(rng.randint(SPOOL_LIMIT + 1, 3 * MIB))
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, EncryptionContext=context)
        response = self.spooling.get_object(Bucket=self.bucket, Key=key, EncryptionContext=context)
        with response["Body"] as stream:
            data = b"".join(iter(lambda: stream.read(rng.randint(1, MIB)), b""))
        assert sha256(data) == sha256(body), f"{key} came back altered"
        self._delete(key)
        return 2 * len(body)

    def multipart(self, rng: random.Random) -> int:
        key, context = self._new("multipart")
        parts = [rng.randbytes(5 * MIB) for _ in range(rng.randint(1, 2))] + [rng.randbytes(rng.randint(1, MIB))]
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key, EncryptionContext=context)[
            "UploadId"
        ]
        send_parts_and_complete(self.client, self.bucket, key, upload_id, parts)
        data = self._get(self.client, key, context)
        assert sha256(data) == sha256(b"".join(parts)), f"{key} came back altered"
        self._delete(key)
        return 2 * len(data)

    def aborted_multipart(self, rng: random.Random) -> int:
        key, context = self._new("aborted")
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key, EncryptionContext=context)[
            "UploadId"
        ]
        part = rng.randbytes(rng.randint(1, MIB))
        self.client.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=part)
        self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        return len(part)

    def fileobj_transfer(self, rng: random.Random) -> int:
        key, context = self._new("fileobj")
        body = rng.randbytes(rng.randint(5 * MIB, 11 * MIB))
        extra = {"EncryptionContext": context}
        self.client.upload_fileobj(io.BytesIO(body), self.bucket, key, ExtraArgs=extra, Config=TRANSFER)
        out = io.BytesIO()
        self.client.download_fileobj(self.bucket, key, out, ExtraArgs=extra, Config=TRANSFER)
        assert sha256(out.getvalue()) == sha256(body), f"{key} came back altered"
        self._delete(key)
        return 2 * len(body)

    def file_transfer(self, rng: random.Random) -> int:
        key, context = self._new("file")
        source, target = self.files / key, self.files / f"{key}.downloaded"
        body = rng.randbytes(rng.randint(5 * MIB, 11 * MIB))
        source.write_bytes(body)
        extra = {"EncryptionContext": context}
        self.client.upload_file(str(source), self.bucket, key, ExtraArgs=extra, Config=TRANSFER)
        self.client.download_file(self.bucket, key, str(target), ExtraArgs=extra, Config=TRANSFER)
        assert sha256(target.read_bytes()) == sha256(body), f"{key} came back altered"
        source.unlink()
        target.unlink()
        self._delete(key)
        return 2 * len(body)

    def wrong_context(self, rng: random.Random) -> int:
        entry = self.ledger.take(rng)
        if entry is None:
            return 0
        wrong = {"object": f"not-{entry.key}"}
        target = self.files / f"{entry.key}.wrong"
        try:
            if rng.random() < 0.5:
                with pytest.raises(s3crypt.DecryptionError):
                    self.client.get_object(Bucket=self.bucket, Key=entry.key, EncryptionContext=wrong)
            else:
                with pytest.raises(s3crypt.DecryptionError):
                    self.client.download_file(
                        self.bucket, entry.key, str(target), ExtraArgs={"EncryptionContext": wrong}
                    )
        finally:
            self.ledger.give_back(entry)
        assert not target.exists()
        return 0

    def missing_key(self, rng: random.Random) -> int:
        key = f"missing-{next(self._serial)}"
        if rng.random() < 0.5:
            with pytest.raises(self.client.exceptions.NoSuchKey):
                self.client.get_object(Bucket=self.bucket, Key=key)
        else:
            target = self.files / key
            with pytest.raises(ClientError, match="404"):
                self.client.download_file(self.bucket, key, str(target), Config=TRANSFER)
            assert not target.exists()
        return 0


def test_mixed_load(
    connection: dict[str, Any],
    http_key: str,
    bucket: str,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    files = tmp_path / "files"
    files.mkdir()
    before = Resources.count(tmp_path)
    with shared_clients(connection, http_key) as (client, spooling):
        load = MixedLoad(client, spooling, bucket, files)
        load.run(WARM_UP)
        rss_before = settled_rss()
        with PeakRss() as sampler:
            started = time.monotonic()
            done, moved = load.run(DURATION)
            elapsed = time.monotonic() - started
        rss_after = settled_rss()
        open_uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    after = Resources.count(tmp_path)
    operations = sum(done.values())
    report(
        record_property,
        "mixed load",
        {
            **run_figures(elapsed, operations, rss_before, rss_after, sampler.peak, before, after),
            "mib_moved": mib(moved),
            "mix": ",".join(f"{name}:{done[name]}" for name in WEIGHTS),
        },
    )
    assert not open_uploads
    assert after == before
    # Only a run that moves far more than the allowance can tell a leak of the bodies from the allocator's slack.
    assert moved > 4 * RSS_ALLOWANCE
    assert rss_after - rss_before < RSS_ALLOWANCE


def test_many_small_objects(
    connection: dict[str, Any],
    http_key: str,
    bucket: str,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    digests: dict[str, str] = {}
    lock = threading.Lock()
    before = Resources.count(tmp_path)
    with shared_clients(connection, http_key) as (client, _):

        def put(number: int) -> None:
            rng = random.Random(SEED + number)
            key = f"small-{number:05d}"
            body = rng.randbytes(rng.randint(0, KIB))
            client.put_object(Bucket=bucket, Key=key, Body=body, EncryptionContext={"number": str(number)})
            with lock:
                digests[key] = sha256(body)

        def get(number: int) -> None:
            key = f"small-{number:05d}"
            data = client.get_object(Bucket=bucket, Key=key, EncryptionContext={"number": str(number)})["Body"].read()
            with lock:
                expected = digests[key]
            assert sha256(data) == expected, f"{key} came back altered"

        warm_up = SMALL_OBJECTS // 10
        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            in_batches(pool, put, range(warm_up))
            in_batches(pool, get, range(warm_up))
            rss_before = settled_rss()
            with PeakRss() as sampler:
                started = time.monotonic()
                in_batches(pool, put, range(warm_up, SMALL_OBJECTS))
                in_batches(pool, get, range(warm_up, SMALL_OBJECTS))
                elapsed = time.monotonic() - started
        rss_after = settled_rss()
    after = Resources.count(tmp_path)
    operations = 2 * (SMALL_OBJECTS - warm_up)
    report(
        record_property,
        "many small objects",
        {
            "objects": SMALL_OBJECTS,
            **run_figures(elapsed, operations, rss_before, rss_after, sampler.peak, before, after),
        },
    )
    assert len(digests) == SMALL_OBJECTS
    assert after == before
    assert rss_after - rss_before < SMALL_RSS_ALLOWANCE
