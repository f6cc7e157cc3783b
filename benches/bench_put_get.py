"""Time put_object, get_object, upload_file and download_file through plain boto3, s3crypt and the official client.

Usage: python benches/bench_put_get.py [--size-mib 256] [--pairs 3]     # speed, then in-process crypto
       python benches/bench_put_get.py --memory [--size-mib 1024]       # peak RSS, each operation once

One moto_server serves every measurement (the range-reading launcher from ../shared/tools when present). Each
measurement runs in its own child process, so the peak RSS it reports belongs to that client alone; the child
times only the operation (client creation and imports are outside the timed region). See benches/README.md.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig

CLIENTS = ("boto3", "s3crypt", "s3crypt-delayed", "aws-s3ec")
OPS = ("put_object", "get_object", "upload_file", "download_file")
# What each client is measured on. enable_delayed_authentication changes get_object only, so s3crypt-delayed
# reads the objects s3crypt writes; the official client has no download_file of its own (NOT_AVAILABLE).
MEASURED = {
    "boto3": OPS,
    "s3crypt": OPS,
    "s3crypt-delayed": ("get_object",),
    "aws-s3ec": ("put_object", "get_object", "upload_file"),
}
NOT_AVAILABLE = {("aws-s3ec", "download_file")}
WRITER = {"s3crypt-delayed": "s3crypt"}
READ_AFTER = {"put_object": "get_object", "upload_file": "download_file"}
CHUNK = 1024 * 1024
BUCKET = "bench"
MEMORY_TARGET_MIB = 64  # s3crypt's peak RSS may exceed plain boto3's by this much in any operation
# Disk a run may fill, in body sizes: the body, moto's copy of an object (twice while it joins the parts of a
# multipart upload), s3crypt's spooled ciphertext, the downloaded file; plus one GiB to spare.
DISK_BODIES = 5
# ../shared/tools/ next to the repository: moto_server reading only the requested bytes of a ranged GET.
RANGED_LAUNCHER = Path(__file__).resolve().parents[2] / "shared" / "tools" / "moto_server_ranged.py"
# The values of s3crypt.testing, repeated so that children measuring other clients never import s3crypt.
MOTO_ACCOUNT = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclasses.dataclass(frozen=True)
class Job:
    """What one child process measures: one operation of one client on one object."""

    client: str
    op: str
    key: str
    endpoint: str
    kms_key_id: str
    body_path: str
    download_path: str
    size: int


@dataclasses.dataclass(frozen=True)
class Sample:
    """One measurement, as the child reports it."""

    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    start_rss_mib: float


Samples = dict[tuple[str, str], list[Sample]]


def aws_kwargs(endpoint: str) -> dict[str, Any]:
    return {"endpoint_url": endpoint, **MOTO_ACCOUNT}


# --- child process -----------------------------------------------------------------------------------------


def make_client(name: str, endpoint: str, kms_key_id: str) -> Any:
    """The S3 client under test; each encryption library is imported only in the child that measures it."""
    kwargs = aws_kwargs(endpoint)
    if name == "boto3":
        return boto3.client("s3", **kwargs)
    kms = boto3.client("kms", **kwargs)
    if name in ("s3crypt", "s3crypt-delayed"):
        import s3crypt

        keyring = s3crypt.KmsKeyring(kms_key_id, kms_client=kms)
        return s3crypt.client("s3", keyring=keyring, enable_delayed_authentication=name == "s3crypt-delayed", **kwargs)
    from s3_encryption import S3EncryptionClient, S3EncryptionClientConfig
    from s3_encryption.materials.kms_keyring import KmsKeyring

    config = S3EncryptionClientConfig(keyring=KmsKeyring(kms, kms_key_id))
    return S3EncryptionClient(boto3.client("s3", **kwargs), config)


def put_object(client: Any, job: Job) -> None:
    with open(job.body_path, "rb") as body:
        client.put_object(Bucket=BUCKET, Key=job.key, Body=body)


def get_object(client: Any, job: Job) -> None:
    body = client.get_object(Bucket=BUCKET, Key=job.key)["Body"]
    received = sum(len(chunk) for chunk in body.iter_chunks(CHUNK))
    if received != job.size:
        raise RuntimeError(f"{job.client} read {received} bytes of a {job.size}-byte object")


def upload_file(client: Any, job: Job) -> None:
    # boto3 and s3crypt with the default TransferConfig; the official client takes no Config (8 MiB parts in turn).
    config = {} if job.client == "aws-s3ec" else {"Config": TransferConfig()}
    client.upload_file(job.body_path, BUCKET, job.key, **config)


def download_file(client: Any, job: Job) -> None:
    client.download_file(BUCKET, job.key, job.download_path, Config=TransferConfig())


OPERATIONS: dict[str, Callable[[Any, Job], None]] = {
    "put_object": put_object,
    "get_object": get_object,
    "upload_file": upload_file,
    "download_file": download_file,
}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mib() -> float:
    """Peak resident memory of this process, in MiB.

    On Linux ``ru_maxrss`` of a freshly spawned child already holds its parent's peak (exec keeps the high-water
    mark of the image it replaces), so read the kernel's high-water mark of this image, VmHWM, instead.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024


def measure(job: Job) -> Sample:
    client = make_client(job.client, job.endpoint, job.kms_key_id)
    operation = OPERATIONS[job.op]
    start_rss = peak_rss_mib()
    cpu, wall = cpu_seconds(), time.perf_counter()
    operation(client, job)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    return Sample(wall_s=wall, cpu_s=cpu, peak_rss_mib=peak_rss_mib(), start_rss_mib=start_rss)


# --- parent process ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Bench:
    """What every job of a run shares."""

    endpoint: str
    kms_key_id: str
    work_dir: Path
    size: int

    @property
    def body_path(self) -> Path:
        return self.work_dir / "body.bin"

    @property
    def download_path(self) -> Path:
        return self.work_dir / "download.bin"

    def job(self, client: str, op: str, key: str) -> Job:
        return Job(
            client, op, key, self.endpoint, self.kms_key_id, str(self.body_path), str(self.download_path), self.size
        )


def run_child(job: Job) -> Sample:
    result = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(dataclasses.asdict(job))],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return Sample(**json.loads(result.stdout.splitlines()[-1]))


def remove_download(path: Path, size: int) -> None:
    """Check the downloaded file's size, then delete it so that the next download starts from an empty directory."""
    received = path.stat().st_size
    path.unlink()
    if received != size:
        raise RuntimeError(f"download_file wrote {received} bytes of a {size}-byte object")


def check_free_disk(directory: Path, size: int) -> None:
    needed = DISK_BODIES * size + 2**30
    free = shutil.disk_usage(directory).free
    if free < needed:
        raise SystemExit(
            f"a {size / 2**20:.0f} MiB body needs {needed / 2**30:.1f} GiB free, {directory} has {free / 2**30:.1f}"
        )


def write_random_file(path: Path, size: int) -> None:
    with path.open("wb") as out:
        for offset in range(0, size, CHUNK):
            out.write(os.urandom(min(CHUNK, size - offset)))


def server_command() -> list[str] | None:
    return [sys.executable, str(RANGED_LAUNCHER)] if RANGED_LAUNCHER.is_file() else None


def rounds(pair: int) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """The objects of one pair: each key with the (client, operation) steps that write it and then read it.

    The client order alternates between pairs (A B C D, D C B A), among the readers of one object too.
    """
    order = CLIENTS if pair % 2 == 0 else CLIENTS[::-1]
    for writer in order:
        for write, read in READ_AFTER.items():
            if write in MEASURED[writer]:
                readers = [
                    client for client in order if read in MEASURED[client] and WRITER.get(client, client) == writer
                ]
                yield f"bench-{writer}-{write}", [(writer, write), *((reader, read) for reader in readers)]


def warm_up(s3: Any, body_path: Path) -> None:
    """One untimed put, get and delete: the first PUT to a fresh moto_server is often much slower than later ones."""
    with body_path.open("rb") as body:
        s3.put_object(Bucket=BUCKET, Key="warm-up", Body=body)
    for _ in s3.get_object(Bucket=BUCKET, Key="warm-up")["Body"].iter_chunks(CHUNK):
        pass  # streamed: the children's RSS must not be compared with a parent that held the body
    s3.delete_object(Bucket=BUCKET, Key="warm-up")


def run_pairs(bench: Bench, s3: Any, pairs: int) -> Samples:
    """Every measurement ``pairs`` times; each object is deleted once read, since moto slows as it holds more."""
    samples: Samples = collections.defaultdict(list)
    for pair in range(pairs):
        for key, steps in rounds(pair):
            for client, op in steps:
                sample = run_child(bench.job(client, op, key))
                if op == "download_file":
                    remove_download(bench.download_path, bench.size)
                samples[client, op].append(sample)
                print(f"pair {pair + 1}/{pairs}: {client} {op} {sample.wall_s:.3f} s", file=sys.stderr)
            s3.delete_object(Bucket=BUCKET, Key=key)
    return samples


def collect(size: int, pairs: int) -> tuple[Samples, str]:
    """Run the measurements against a fresh moto_server; also says which server ran."""
    from s3crypt.testing import moto_server

    command = server_command()
    check_free_disk(Path(tempfile.gettempdir()), size)
    with tempfile.TemporaryDirectory(prefix="s3crypt-bench-") as tmp, moto_server(command=command) as endpoint:
        kwargs = aws_kwargs(endpoint)
        s3 = boto3.client("s3", **kwargs)
        s3.create_bucket(Bucket=BUCKET)
        kms_key_id = boto3.client("kms", **kwargs).create_key()["KeyMetadata"]["KeyId"]
        bench = Bench(endpoint, kms_key_id, Path(tmp), size)
        write_random_file(bench.body_path, size)
        warm_up(s3, bench.body_path)
        samples = run_pairs(bench, s3, pairs)
    return samples, "moto_server_ranged.py" if command else "stock moto_server"


# --- report ------------------------------------------------------------------------------------------------


def median(samples: list[Sample], field: str) -> float:
    values: list[float] = [getattr(sample, field) for sample in samples]
    return statistics.median(values)


def rows(samples: Samples) -> Iterator[tuple[str, str, list[Sample] | None]]:
    """(operation, client, samples) in table order; ``None`` for an operation the client does not have."""
    for op in OPS:
        for client in CLIENTS:
            if (client, op) in samples:
                yield op, client, samples[client, op]
            elif (client, op) in NOT_AVAILABLE:
                yield op, client, None


def speed_table(samples: Samples, size: int) -> str:
    lines = [
        "| op | client | wall s | MB/s | wall vs boto3 | CPU s | CPU vs boto3 | peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for op, client, measured in rows(samples):
        if measured is None:
            lines.append(f"| {op} | {client} | n/a | | | | | |")
            continue
        wall, cpu = median(measured, "wall_s"), median(measured, "cpu_s")
        base_wall, base_cpu = median(samples["boto3", op], "wall_s"), median(samples["boto3", op], "cpu_s")
        lines.append(
            f"| {op} | {client} | {wall:.3f} | {size / 1e6 / wall:.0f} | {wall / base_wall:.2f} "
            f"| {cpu:.2f} | {cpu / base_cpu:.2f} | {median(measured, 'peak_rss_mib'):.0f} |"
        )
    return "\n".join(lines)


def memory_table(samples: Samples) -> str:
    lines = [
        f"| op | client | peak RSS MiB | vs boto3 MiB | RSS before MiB | wall s | ≤ boto3 + {MEMORY_TARGET_MIB} MiB |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for op, client, measured in rows(samples):
        if measured is None:
            lines.append(f"| {op} | {client} | n/a | | | | |")
            continue
        peak = median(measured, "peak_rss_mib")
        extra = peak - median(samples["boto3", op], "peak_rss_mib")
        verdict = ("yes" if extra <= MEMORY_TARGET_MIB else "**no**") if client.startswith("s3crypt") else ""
        lines.append(
            f"| {op} | {client} | {peak:.0f} | {extra:+.0f} | {median(measured, 'start_rss_mib'):.0f} "
            f"| {median(measured, 'wall_s'):.2f} | {verdict} |"
        )
    return "\n".join(lines)


def notes(samples: Samples) -> str:
    before = [median(measured, "start_rss_mib") for measured in samples.values()]
    return "\n".join(
        (
            "- s3crypt-delayed: s3crypt with enable_delayed_authentication=True, which changes get_object only.",
            "- upload_file and download_file: the default TransferConfig (8 MiB parts, 10 threads) for boto3 and "
            "s3crypt; the official client's own upload_file sends 8 MiB parts one after another.",
            "- n/a: the official client has no download_file; the name falls through to the wrapped boto3 client, "
            "whose ranged GETs of an object above 8 MiB then fail to decrypt.",
            "- Peak RSS includes the interpreter, imports and client: RSS before the operation was "
            f"{min(before):.0f}-{max(before):.0f} MiB.",
        )
    )


def heading(what: str, server: str) -> str:
    return f"{what}, {server}, Python {sys.version.split()[0]}, boto3 {boto3.__version__}, {os.cpu_count()} CPUs"


def speed(size_mib: int, pairs: int) -> None:
    import bench_crypto

    size = size_mib * CHUNK
    samples, server = collect(size, pairs)
    print(f"{heading(f'{size_mib} MiB body, medians of {pairs} pairs', server)}; MB/s = 10^6 bytes/s", end="\n\n")
    print(speed_table(samples, size), end="\n\n")
    print(notes(samples), end="\n\n")
    print(bench_crypto.report(size_mib, bench_crypto.DEFAULT_REPEATS))


def memory(size_mib: int) -> None:
    samples, server = collect(size_mib * CHUNK, pairs=1)
    print(heading(f"Memory: {size_mib} MiB body, each operation once", server), end="\n\n")
    print(memory_table(samples), end="\n\n")
    print(notes(samples))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--memory", action="store_true", help="peak RSS of each operation once (default 1 GiB body)")
    parser.add_argument("--size-mib", type=int, help="body size in MiB (default 256, or 1024 with --memory)")
    parser.add_argument("--pairs", type=int, default=3, help="rounds over all clients, order alternating (default 3)")
    parser.add_argument("--worker", metavar="JOB_JSON", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        sample = measure(Job(**json.loads(args.worker)))
        print(json.dumps(dataclasses.asdict(sample)))
        return
    size_mib = args.size_mib if args.size_mib is not None else (1024 if args.memory else 256)
    if size_mib < 1 or args.pairs < 1:
        raise SystemExit("--size-mib and --pairs must be at least 1")
    if args.memory:
        memory(size_mib)
    else:
        speed(size_mib, args.pairs)


if __name__ == "__main__":
    main()
