"""Time put_object and get_object of one large body through plain boto3, s3crypt and the official AWS client.

Usage: python benches/bench_put_get.py [--size-mib 64] [--pairs 3]

One moto_server serves every measurement (the range-reading launcher from ../shared/tools when present). Each
measurement runs in its own child process, so the peak RSS it reports belongs to that client alone; the child
times only the operation (client creation and imports are outside the timed region). See benches/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3

CLIENTS = ("boto3", "s3crypt", "aws-s3ec")
OPS = ("put", "get")
CHUNK = 1024 * 1024
BUCKET = "bench"
# ../shared/tools/ next to the repository: moto_server reading only the requested bytes of a ranged GET.
RANGED_LAUNCHER = Path(__file__).resolve().parents[2] / "shared" / "tools" / "moto_server_ranged.py"
# The values of s3crypt.testing, repeated so that children measuring other clients never import s3crypt.
MOTO_ACCOUNT = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclasses.dataclass(frozen=True)
class Job:
    """What one child process measures: one operation of one client."""

    client: str
    op: str
    endpoint: str
    kms_key_id: str
    body_path: str
    size: int


@dataclasses.dataclass(frozen=True)
class Sample:
    """One measurement, as the child reports it."""

    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    start_rss_mib: float


def object_key(client: str) -> str:
    return f"bench-{client}"


def aws_kwargs(endpoint: str) -> dict[str, Any]:
    return {"endpoint_url": endpoint, **MOTO_ACCOUNT}


# --- child process -----------------------------------------------------------------------------------------


def make_client(name: str, endpoint: str, kms_key_id: str) -> Any:
    """The S3 client under test; each encryption library is imported only in the child that measures it."""
    kwargs = aws_kwargs(endpoint)
    if name == "boto3":
        return boto3.client("s3", **kwargs)
    kms = boto3.client("kms", **kwargs)
    if name == "s3crypt":
        import s3crypt

        return s3crypt.client("s3", keyring=s3crypt.KmsKeyring(kms_key_id, kms_client=kms), **kwargs)
    from s3_encryption import S3EncryptionClient, S3EncryptionClientConfig
    from s3_encryption.materials.kms_keyring import KmsKeyring

    config = S3EncryptionClientConfig(keyring=KmsKeyring(kms, kms_key_id))
    return S3EncryptionClient(boto3.client("s3", **kwargs), config)


def put(client: Any, job: Job) -> None:
    with open(job.body_path, "rb") as body:
        client.put_object(Bucket=BUCKET, Key=object_key(job.client), Body=body)


def get(client: Any, job: Job) -> None:
    body = client.get_object(Bucket=BUCKET, Key=object_key(job.client))["Body"]
    received = sum(len(chunk) for chunk in body.iter_chunks(CHUNK))
    if received != job.size:
        raise RuntimeError(f"{job.client} read {received} bytes of a {job.size}-byte object")


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
    operation = put if job.op == "put" else get
    start_rss = peak_rss_mib()
    cpu, wall = cpu_seconds(), time.perf_counter()
    operation(client, job)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    return Sample(wall_s=wall, cpu_s=cpu, peak_rss_mib=peak_rss_mib(), start_rss_mib=start_rss)


# --- parent process ----------------------------------------------------------------------------------------


def run_child(job: Job) -> Sample:
    result = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(dataclasses.asdict(job))],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return Sample(**json.loads(result.stdout.splitlines()[-1]))


def write_random_file(path: Path, size: int) -> None:
    with path.open("wb") as out:
        for offset in range(0, size, CHUNK):
            out.write(os.urandom(min(CHUNK, size - offset)))


def server_command() -> list[str] | None:
    return [sys.executable, str(RANGED_LAUNCHER)] if RANGED_LAUNCHER.is_file() else None


def client_order(pair: int) -> Sequence[str]:
    return CLIENTS if pair % 2 == 0 else CLIENTS[::-1]


def warm_up(s3: Any, body_path: Path) -> None:
    """One untimed put, get and delete: the first PUT to a fresh moto_server is often much slower than later ones."""
    with body_path.open("rb") as body:
        s3.put_object(Bucket=BUCKET, Key="warm-up", Body=body)
    for _ in s3.get_object(Bucket=BUCKET, Key="warm-up")["Body"].iter_chunks(CHUNK):
        pass  # streamed: the children's RSS must not be compared with a parent that held the body
    s3.delete_object(Bucket=BUCKET, Key="warm-up")


def run_pairs(endpoint: str, body_path: Path, size: int, pairs: int) -> dict[tuple[str, str], list[Sample]]:
    kwargs = aws_kwargs(endpoint)
    s3 = boto3.client("s3", **kwargs)
    s3.create_bucket(Bucket=BUCKET)
    kms_key_id = boto3.client("kms", **kwargs).create_key()["KeyMetadata"]["KeyId"]
    warm_up(s3, body_path)
    samples: dict[tuple[str, str], list[Sample]] = {(client, op): [] for client in CLIENTS for op in OPS}
    for pair in range(pairs):
        for client in client_order(pair):
            for op in OPS:
                job = Job(client, op, endpoint, kms_key_id, str(body_path), size)
                sample = run_child(job)
                samples[client, op].append(sample)
                print(f"pair {pair + 1}/{pairs}: {client} {op} {sample.wall_s:.3f} s", file=sys.stderr)
            s3.delete_object(Bucket=BUCKET, Key=object_key(client))
    return samples


def median(samples: list[Sample], field: str) -> float:
    values: list[float] = [getattr(sample, field) for sample in samples]
    return statistics.median(values)


def table(samples: dict[tuple[str, str], list[Sample]], size: int) -> str:
    lines = [
        "| client | op | wall s | MB/s | wall vs boto3 | CPU s | CPU vs boto3 | peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for op in OPS:
        base_wall = median(samples["boto3", op], "wall_s")
        base_cpu = median(samples["boto3", op], "cpu_s")
        for client in CLIENTS:
            wall = median(samples[client, op], "wall_s")
            cpu = median(samples[client, op], "cpu_s")
            rss = median(samples[client, op], "peak_rss_mib")
            lines.append(
                f"| {client} | {op} | {wall:.3f} | {size / 1e6 / wall:.0f} | {wall / base_wall:.2f} "
                f"| {cpu:.3f} | {cpu / base_cpu:.2f} | {rss:.0f} |"
            )
    return "\n".join(lines)


def start_rss_note(samples: dict[tuple[str, str], list[Sample]]) -> str:
    parts = ", ".join(
        f"{client} {op} {median(samples[client, op], 'start_rss_mib'):.0f}" for client in CLIENTS for op in OPS
    )
    return f"Peak RSS includes the interpreter, imports and client; RSS before the operation (MiB): {parts}."


def benchmark(size_mib: int, pairs: int) -> None:
    from s3crypt.testing import moto_server

    size = size_mib * CHUNK
    command = server_command()
    with tempfile.TemporaryDirectory(prefix="s3crypt-bench-") as tmp:
        body_path = Path(tmp) / "body.bin"
        write_random_file(body_path, size)
        with moto_server(command=command) as endpoint:
            samples = run_pairs(endpoint, body_path, size, pairs)
    server = "moto_server_ranged.py" if command else "stock moto_server"
    print(f"{size_mib} MiB body, medians of {pairs} pairs, {server}, Python {sys.version.split()[0]}\n")
    print(table(samples, size))
    print(f"\n{start_rss_note(samples)}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=64, help="body size in MiB (default 64)")
    parser.add_argument("--pairs", type=int, default=3, help="rounds over all clients, order alternating (default 3)")
    parser.add_argument("--worker", metavar="JOB_JSON", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        sample = measure(Job(**json.loads(args.worker)))
        print(json.dumps(dataclasses.asdict(sample)))
        return
    if args.size_mib < 1 or args.pairs < 1:
        raise SystemExit("--size-mib and --pairs must be at least 1")
    benchmark(args.size_mib, args.pairs)


if __name__ == "__main__":
    main()
