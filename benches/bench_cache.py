"""Many small objects through plain boto3, s3crypt, and s3crypt with a data-key cache: objects/s and KMS calls.

Usage: python benches/bench_cache.py [--objects 10000] [--rounds 1] [--slice 1000]
                                     [--max-messages N] [--max-age-seconds 300]

One moto_server (the range-reading launcher from ../shared/tools when present) serves S3 and KMS. Every client
runs in this one process: this is a throughput test of 1 KiB objects, where the time is per-request overhead
(HTTP round trips to moto, KMS calls, metadata), not memory or crypto. Each client writes ``--objects`` distinct
keys with put_object and reads them back with get_object; the clients take turns by slices, in alternating
order, and the bucket is emptied after each turn. KMS calls are counted exactly with a ``before-call.kms``
handler on each client's own KMS client, and compared with ``client.encryption_stats``. See benches/README.md.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import os
import signal
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import boto3

import s3crypt
from s3crypt.testing import TEST_CREDENTIALS, TEST_REGION, moto_server

CLIENTS = ("boto3", "s3crypt", "s3crypt+cache")
OPS = ("put_object", "get_object")
BUCKET = "bench-cache"
OBJECT_SIZE = 1024
CONTEXT = {"app": "bench-cache"}
TARGET_PER_10K = 10  # KMS calls for 10,000 cached puts
DELETE_BATCH = 1000  # the most one delete_objects takes
WARM_UP_OBJECTS = 20
# ../shared/tools/ next to the repository: moto_server reading only the requested bytes of a ranged GET.
RANGED_LAUNCHER = Path(__file__).resolve().parents[2] / "shared" / "tools" / "moto_server_ranged.py"


@dataclasses.dataclass(frozen=True)
class Settings:
    endpoint: str
    kms_key_id: str
    objects: int
    slice_size: int
    max_age_seconds: float
    max_messages: int | None

    @property
    def aws(self) -> dict[str, Any]:
        return {"endpoint_url": self.endpoint, "region_name": TEST_REGION, **TEST_CREDENTIALS}


@dataclasses.dataclass(frozen=True)
class StatsSnapshot:
    """``client.encryption_stats`` at one moment (the counters, without their lock)."""

    kms_calls: int = 0
    cache_hits: int = 0
    cache_misses: int = 0

    @classmethod
    def of(cls, client: Any) -> StatsSnapshot:
        if not isinstance(client, s3crypt.EncryptionClient):
            return cls()
        stats = client.encryption_stats
        return cls(stats.kms_calls, stats.cache_hits, stats.cache_misses)

    def __sub__(self, other: StatsSnapshot) -> StatsSnapshot:
        return StatsSnapshot(
            self.kms_calls - other.kms_calls, self.cache_hits - other.cache_hits, self.cache_misses - other.cache_misses
        )

    def __add__(self, other: StatsSnapshot) -> StatsSnapshot:
        return StatsSnapshot(
            self.kms_calls + other.kms_calls, self.cache_hits + other.cache_hits, self.cache_misses + other.cache_misses
        )


class KmsCounter:
    """Counts the API calls a KMS client makes, by operation, from botocore's ``before-call`` event."""

    def __init__(self, kms: Any) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        kms.meta.events.register("before-call.kms", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def snapshot(self) -> collections.Counter[str]:
        return collections.Counter(self.calls)


@dataclasses.dataclass(frozen=True)
class Sample:
    """Timed work of one client: a slice of puts or gets, or (added up) all of them in a round."""

    wall_s: float
    cpu_s: float
    server_cpu_s: float | None
    kms: collections.Counter[str]
    stats: StatsSnapshot

    @property
    def kms_calls(self) -> int:
        return sum(self.kms.values())

    def __add__(self, other: Sample) -> Sample:
        server = None
        if self.server_cpu_s is not None and other.server_cpu_s is not None:
            server = self.server_cpu_s + other.server_cpu_s
        return Sample(
            self.wall_s + other.wall_s, self.cpu_s + other.cpu_s, server, self.kms + other.kms, self.stats + other.stats
        )


Samples = dict[tuple[str, str], list[Sample]]


@dataclasses.dataclass
class Subject:
    """A client under test, with the counter on its own KMS client (none for plain boto3)."""

    name: str
    s3: Any
    kms: KmsCounter | None

    def put(self, key: str, body: bytes) -> None:
        if self.kms is None:
            self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        else:
            self.s3.put_object(Bucket=BUCKET, Key=key, Body=body, EncryptionContext=CONTEXT)

    def get(self, key: str) -> bytes:
        extra = {} if self.kms is None else {"EncryptionContext": CONTEXT}
        data: bytes = self.s3.get_object(Bucket=BUCKET, Key=key, **extra)["Body"].read()
        return data


def make_subject(name: str, settings: Settings) -> Subject:
    """A fresh client: a new KMS client, and for the cached one a new, empty cache, so each round counts alone."""
    if name == "boto3":
        return Subject(name, boto3.client("s3", **settings.aws), None)
    kms = boto3.client("kms", **settings.aws)
    counter = KmsCounter(kms)
    options: dict[str, Any] = {}
    if name == "s3crypt+cache":
        options["data_key_cache"] = s3crypt.DataKeyCache(
            max_age_seconds=settings.max_age_seconds, max_messages=settings.max_messages
        )
    keyring = s3crypt.KmsKeyring(settings.kms_key_id, kms_client=kms)
    return Subject(name, s3crypt.client("s3", keyring=keyring, **options, **settings.aws), counter)


def object_key(index: int) -> str:
    return f"obj/{index:06d}"


def proc_stat(pid: int | str) -> list[str]:
    """The fields of /proc/PID/stat after the command name: [0] is the state, [1] the parent, [11] utime."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def server_cpu_seconds() -> float | None:
    """CPU time so far of this process's descendants (moto_server), from /proc; ``None`` where there is none."""
    if not Path("/proc/self/stat").is_file():
        return None
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                children[int(proc_stat(entry.name)[1])].append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue  # gone, or not a process
    ticks, pending = 0, list(children[os.getpid()])
    while pending:
        pid = pending.pop()
        pending += children[pid]
        try:
            fields = proc_stat(pid)
            ticks += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
        except (OSError, IndexError, ValueError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def timed(subject: Subject, work: Callable[[], None]) -> Sample:
    kms_before = subject.kms.snapshot() if subject.kms else collections.Counter[str]()
    stats_before = StatsSnapshot.of(subject.s3)
    server = server_cpu_seconds()
    cpu, wall = time.process_time(), time.perf_counter()
    work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    server_after = server_cpu_seconds()
    server_cpu = None if server is None or server_after is None else server_after - server
    kms = (subject.kms.snapshot() if subject.kms else collections.Counter[str]()) - kms_before
    return Sample(wall, cpu, server_cpu, kms, StatsSnapshot.of(subject.s3) - stats_before)


def put_all(subject: Subject, indexes: range, body: bytes) -> Sample:
    def work() -> None:
        for index in indexes:
            subject.put(object_key(index), body)

    return timed(subject, work)


def get_all(subject: Subject, indexes: range, body: bytes) -> Sample:
    def work() -> None:
        for index in indexes:
            if subject.get(object_key(index)) != body:
                raise RuntimeError(f"{subject.name} read back a wrong body for {object_key(index)}")

    return timed(subject, work)


def empty_bucket(s3: Any) -> int:
    """Delete every object, one delete_objects per listed page of at most 1000 keys; returns how many there were."""
    deleted = 0
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, PaginationConfig={"PageSize": DELETE_BATCH})
    for page in pages:
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            response = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": keys, "Quiet": True})
            if response.get("Errors"):
                raise RuntimeError(f"delete_objects failed: {response['Errors'][:3]}")
            deleted += len(keys)
    return deleted


@dataclasses.dataclass
class Envelopes:
    """The wrapped data keys (``x-amz-3``) and message ids (``x-amz-i``) of the cached objects sampled."""

    wrapped_keys: set[str] = dataclasses.field(default_factory=set)
    message_ids: list[str] = dataclasses.field(default_factory=list)

    def sample(self, plain: Any, indexes: range) -> None:
        """The first and last object of a slice, read with plain boto3 before the bucket is emptied."""
        for index in (indexes[0], indexes[-1]):
            metadata = plain.head_object(Bucket=BUCKET, Key=object_key(index))["Metadata"]
            self.wrapped_keys.add(metadata["x-amz-3"])
            self.message_ids.append(metadata["x-amz-i"])


def envelope_summary(rounds: list[Envelopes]) -> str:
    sampled = spread([len(envelopes.message_ids) for envelopes in rounds])
    return (
        f"per round, {sampled} objects sampled (first and last of each slice, plain head_object) had "
        f"{spread([len(envelopes.wrapped_keys) for envelopes in rounds])} distinct wrapped data key(s) and "
        f"{spread([len(set(envelopes.message_ids)) for envelopes in rounds])} distinct message ids"
    )


def warm_up(settings: Settings, plain: Any, body: bytes) -> None:
    """Untimed puts and gets with each kind of client (moto's first requests, and s3crypt's lazy imports, are slow)."""
    for name in CLIENTS:
        subject = make_subject(name, settings)
        for index in range(WARM_UP_OBJECTS):
            subject.put(object_key(index), body)
            subject.get(object_key(index))
        empty_bucket(plain)


def slices(objects: int, slice_size: int) -> list[range]:
    return [range(start, min(start + slice_size, objects)) for start in range(0, objects, slice_size)]


def run_round(
    settings: Settings, plain: Any, body: bytes, number: int, envelopes: Envelopes
) -> dict[tuple[str, str], Sample]:
    """One round: every client writes and reads all objects, slice by slice, the client order alternating.

    Each client keeps its client (and cache) for the whole round, so its KMS calls add up over the slices as
    over one run of ``--objects`` puts; the bucket is emptied after each client's slice.
    """
    subjects = {name: make_subject(name, settings) for name in CLIENTS}
    totals: dict[tuple[str, str], Sample] = {}
    parts = slices(settings.objects, settings.slice_size)
    for position, indexes in enumerate(parts):
        order = CLIENTS if (number * len(parts) + position) % 2 == 0 else CLIENTS[::-1]
        for name in order:
            subject = subjects[name]
            for op, phase in (("put_object", put_all), ("get_object", get_all)):
                sample = phase(subject, indexes, body)
                totals[name, op] = totals[name, op] + sample if (name, op) in totals else sample
            if name == "s3crypt+cache":
                envelopes.sample(plain, indexes)
            empty_bucket(plain)
        print(f"round {number + 1}: slice {position + 1}/{len(parts)} done", file=sys.stderr)
    return totals


@dataclasses.dataclass
class Results:
    """Every round's samples, the envelopes sampled in each round, and each round's wall time."""

    samples: Samples
    envelopes: list[Envelopes]
    round_seconds: list[float]


def run(settings: Settings, rounds: int) -> Results:
    plain = boto3.client("s3", **settings.aws)
    body = os.urandom(OBJECT_SIZE)
    warm_up(settings, plain, body)
    results = Results(collections.defaultdict(list), [Envelopes() for _ in range(rounds)], [])
    for number in range(rounds):
        started = time.perf_counter()
        totals = run_round(settings, plain, body, number, results.envelopes[number])
        results.round_seconds.append(time.perf_counter() - started)
        for (name, op), sample in totals.items():
            results.samples[name, op].append(sample)
            print(
                f"round {number + 1}/{rounds}: {name} {op} x{settings.objects}: {sample.wall_s:.1f} s, "
                f"{settings.objects / sample.wall_s:.0f} objects/s, KMS {dict(sample.kms)}",
                file=sys.stderr,
            )
    return results


def spread(values: Sequence[int]) -> str:
    """One number if every round agrees, else the range."""
    return str(values[0]) if min(values) == max(values) else f"{min(values)}-{max(values)}"


def rate(samples: list[Sample], objects: int) -> float:
    return statistics.median(objects / sample.wall_s for sample in samples)


def table(samples: Samples, objects: int) -> str:
    lines = [
        "| op | client | objects/s | vs boto3 | wall s | client CPU ms/object | server CPU ms/object | KMS calls | "
        "GenerateDataKey | Decrypt | encryption_stats: kms_calls / hits / misses |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for op in OPS:
        base = rate(samples["boto3", op], objects)
        for name in CLIENTS:
            measured = samples[name, op]
            per_second = rate(measured, objects)
            wall = statistics.median(sample.wall_s for sample in measured)
            cpu_ms = statistics.median(sample.cpu_s for sample in measured) * 1000 / objects
            server = [sample.server_cpu_s for sample in measured if sample.server_cpu_s is not None]
            server_ms = f"{statistics.median(server) * 1000 / objects:.2f}" if server else "n/a"
            stats = (
                " / ".join(
                    spread([getattr(sample.stats, field) for sample in measured])
                    for field in ("kms_calls", "cache_hits", "cache_misses")
                )
                if name != "boto3"
                else ""
            )
            lines.append(
                f"| {op} | {name} | {per_second:.0f} | {per_second / base:.2f} | {wall:.1f} "
                f"| {cpu_ms:.2f} | {server_ms} "
                f"| {spread([sample.kms_calls for sample in measured])} "
                f"| {spread([sample.kms['GenerateDataKey'] for sample in measured])} "
                f"| {spread([sample.kms['Decrypt'] for sample in measured])} | {stats} |"
            )
    return "\n".join(lines)


def verdicts(results: Results, objects: int) -> list[str]:
    """The target, and that the two ways of counting KMS calls agree."""
    samples = results.samples
    target = max(1, objects * TARGET_PER_10K // 10_000)
    cached = max(sample.kms_calls for sample in samples["s3crypt+cache", "put_object"])
    lines = [
        f"- Target: at most {target:,} KMS calls for {objects:,} cached puts ({TARGET_PER_10K} per 10,000): "
        f"{cached:,} made, {'met' if cached <= target else '**not met**'}."
    ]
    disagree = [
        f"{name} {op}"
        for (name, op), measured in samples.items()
        if name != "boto3" and any(sample.kms_calls != sample.stats.kms_calls for sample in measured)
    ]
    lines.append(
        "- KMS calls counted by botocore events equal `encryption_stats.kms_calls` in every phase."
        if not disagree
        else f"- **botocore events and encryption_stats disagree** for {', '.join(disagree)}."
    )
    lines.append(f"- s3crypt+cache: {envelope_summary(results.envelopes)}.")
    return lines


def notes(settings: Settings, results: Results) -> list[str]:
    limit = "None" if settings.max_messages is None else str(settings.max_messages)
    rounds = len(results.round_seconds)
    round_time = "/".join(f"{seconds:.0f}" for seconds in results.round_seconds)
    return [
        f"- {settings.objects:,} distinct keys of {OBJECT_SIZE} random bytes in one bucket, V3, one EncryptionContext. "
        f"The clients take turns by slices of {settings.slice_size:,} objects, in alternating order (A B C, C B A): "
        "each puts its slice, gets it back (checking the bytes), and the bucket is emptied before the next turn.",
        f"- s3crypt+cache: one `DataKeyCache(max_age_seconds={settings.max_age_seconds:g}, max_messages={limit})` "
        "for all the slices of a round, a fresh one each round. Its keys age over the whole round's wall time "
        f"({round_time} s), the other clients' turns included.",
        "- All clients run in this one process"
        + (f", {rounds} rounds (medians)" if rounds > 1 else "")
        + ": per-request overhead, not bandwidth. Client CPU is this process's CPU time per object, server CPU "
        "moto_server's (S3 and KMS), on the same machine.",
    ]


def server_command() -> list[str] | None:
    return [sys.executable, str(RANGED_LAUNCHER)] if RANGED_LAUNCHER.is_file() else None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=10_000, help="objects per client and round (default 10000)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds over all clients (default 1)")
    parser.add_argument("--slice", type=int, default=1000, help="objects per client turn within a round (1000)")
    parser.add_argument("--max-messages", type=int, help="the cache's max_messages (default None: no limit)")
    parser.add_argument("--max-age-seconds", type=float, default=300.0, help="the cache's max_age_seconds (300)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if min(args.objects, args.rounds, args.slice) < 1:
        raise SystemExit("--objects, --rounds and --slice must be at least 1")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop moto_server on kill too
    started = time.perf_counter()
    command = server_command()
    with moto_server(command=command) as endpoint:
        aws: dict[str, Any] = {"endpoint_url": endpoint, "region_name": TEST_REGION, **TEST_CREDENTIALS}
        boto3.client("s3", **aws).create_bucket(Bucket=BUCKET)
        kms_key_id = boto3.client("kms", **aws).create_key()["KeyMetadata"]["KeyId"]
        settings = Settings(endpoint, kms_key_id, args.objects, args.slice, args.max_age_seconds, args.max_messages)
        results = run(settings, args.rounds)
    elapsed = time.perf_counter() - started
    server = "moto_server_ranged.py" if command else "stock moto_server"
    what = f"{args.objects:,} objects of {OBJECT_SIZE} B per client, " + (
        f"medians of {args.rounds} rounds" if args.rounds > 1 else "one round"
    )
    print(
        f"{what}, {server}, Python {sys.version.split()[0]}, boto3 {boto3.__version__}, "
        f"s3crypt {s3crypt.__version__}, {os.cpu_count()} CPUs",
        end="\n\n",
    )
    print(table(results.samples, args.objects), end="\n\n")
    print("\n".join([*verdicts(results, args.objects), *notes(settings, results)]), end="\n\n")
    print(f"Total run time {elapsed:.0f} s (warm-up and emptying the bucket included).")


if __name__ == "__main__":
    main()
