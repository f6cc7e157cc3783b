"""Time put_object, get_object, upload_file and download_file through plain boto3, s3crypt and the official client.

Usage: python benches/bench_put_get.py [--size-mib 256] [--rounds 5]    # loopback and link, then in-process crypto
       python benches/bench_put_get.py --https                          # and HTTPS (moto_server -s) beside them
       python benches/bench_put_get.py --quick                          # 16 MiB, 2 rounds: a sanity run
       python benches/bench_put_get.py --memory [--size-mib 1024]       # peak RSS, each operation once

One moto_server serves every measurement (the range-reading launcher from ../shared/tools when present), on
loopback and through the link simulator (benches/link.py: every S3 connection shaped to --link-rate-mb with
--link-latency-ms one way; KMS calls go to the server directly). Each measurement runs in its own child process,
so the peak RSS it reports belongs to that client alone; the child times only the operation (client creation
and imports are outside the timed region). See benches/README.md.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import json
import os
import resource
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig

NETS = ("loopback", "link", "https")
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
QUICK_MIB = 16
QUICK_ROUNDS = 2
MEMORY_TARGET_MIB = 64  # s3crypt's peak RSS may exceed plain boto3's by this much in any operation
# Disk a run may fill, in body sizes: the body, moto's copy of an object (twice while it joins the parts of a
# multipart upload), s3crypt's spooled ciphertext, the downloaded file; plus one GiB to spare.
DISK_BODIES = 5
# shared/tools/ beside the repository (or beside a directory holding it, for a worktree): moto_server reading
# only the requested bytes of a ranged GET.
RANGED_LAUNCHER = Path("shared", "tools", "moto_server_ranged.py")
# The values of s3crypt.testing, repeated so that children measuring other clients never import s3crypt.
MOTO_ACCOUNT = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclasses.dataclass(frozen=True)
class Job:
    """What one child process measures: one operation of one client on one object."""

    client: str
    op: str
    key: str
    endpoint: str
    """S3's: the server itself (loopback) or the link simulator in front of it."""
    kms_endpoint: str
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


Samples = dict[tuple[str, str, str], list[Sample]]
"""By network, client and operation; the samples of one round at the same index."""


def aws_kwargs(endpoint: str) -> dict[str, Any]:
    # moto_server -s serves a self-signed certificate
    verify = {"verify": False} if endpoint.startswith("https:") else {}
    return {"endpoint_url": endpoint, **verify, **MOTO_ACCOUNT}


# --- child process -----------------------------------------------------------------------------------------


def make_client(name: str, endpoint: str, kms_endpoint: str, kms_key_id: str) -> Any:
    """The S3 client under test; each encryption library is imported only in the child that measures it."""
    kwargs = aws_kwargs(endpoint)
    if name == "boto3":
        return boto3.client("s3", **kwargs)
    kms = boto3.client("kms", **aws_kwargs(kms_endpoint))
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
    import urllib3

    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    client = make_client(job.client, job.endpoint, job.kms_endpoint, job.kms_key_id)
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

    endpoints: dict[str, str]
    """S3's, by network."""
    kms_endpoint: str
    kms_key_id: str
    work_dir: Path
    size: int

    @property
    def body_path(self) -> Path:
        return self.work_dir / "body.bin"

    @property
    def download_path(self) -> Path:
        return self.work_dir / "download.bin"

    def job(self, net: str, client: str, op: str, key: str) -> Job:
        return Job(
            client,
            op,
            key,
            self.endpoints[net],
            self.kms_endpoint,
            self.kms_key_id,
            str(self.body_path),
            str(self.download_path),
            self.size,
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
    for directory in Path(__file__).resolve().parents[1:]:
        if (directory / RANGED_LAUNCHER).is_file():
            return [sys.executable, str(directory / RANGED_LAUNCHER)]
    return None


def schedule(number: int) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """The objects of one round: each key with the (client, operation) steps that write it and then read it.

    The client order alternates between rounds (A B C D, D C B A), among the readers of one object too.
    """
    order = CLIENTS if number % 2 == 0 else CLIENTS[::-1]
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


def run_rounds(bench: Bench, s3: dict[str, Any], count: int) -> Samples:
    """Every measurement ``count`` times on every network; each object is deleted once read, since moto slows as
    it holds more. The networks alternate between rounds as the clients do."""
    samples: Samples = collections.defaultdict(list)
    for number in range(count):
        nets = list(bench.endpoints) if number % 2 == 0 else list(bench.endpoints)[::-1]
        for net in nets:
            for key, steps in schedule(number):
                for client, op in steps:
                    sample = run_child(bench.job(net, client, op, key))
                    if op == "download_file":
                        remove_download(bench.download_path, bench.size)
                    samples[net, client, op].append(sample)
                    print(f"round {number + 1}/{count} {net}: {client} {op} {sample.wall_s:.3f} s", file=sys.stderr)
                s3[net].delete_object(Bucket=BUCKET, Key=key)
    return samples


@dataclasses.dataclass(frozen=True)
class Link:
    """The link simulator's settings; ``None`` in place of one measures loopback only."""

    rate_mb: float
    latency_ms: float

    def describe(self) -> str:
        return f"{self.rate_mb:g} MB/s per S3 connection and direction, {self.latency_ms:g} ms one way, KMS direct"


@contextlib.contextmanager
def https_moto_server(command: list[str] | None) -> Iterator[str]:
    """A second moto_server, serving HTTPS (``-s``, a self-signed certificate): botocore's default checksums then
    travel as an aws-chunked trailer and the payload is not hashed, as against S3."""
    from s3crypt.testing import free_port

    port = free_port()
    launcher = command or [sys.executable, "-m", "moto.server"]
    process = subprocess.Popen(
        [*launcher, "-H", "127.0.0.1", "-p", str(port), "-s"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"https://127.0.0.1:{port}"
    try:
        unverified = ssl.create_default_context()  # moto's certificate is self-signed
        unverified.check_hostname = False
        unverified.verify_mode = ssl.CERT_NONE
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1, context=unverified):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"moto_server -s did not answer on {endpoint}")
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def collect(size: int, count: int, link: Link | None, *, https: bool = False) -> tuple[Samples, list[str]]:
    """Run the measurements against a fresh moto_server; also notes on the server and the link."""
    from link import LinkProxy

    from s3crypt.testing import moto_server

    command = server_command()
    check_free_disk(Path(tempfile.gettempdir()), size)
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="s3crypt-bench-"))
        endpoint = stack.enter_context(moto_server(command=command))
        endpoints = {"loopback": endpoint}
        if link is not None:
            proxy = stack.enter_context(LinkProxy(endpoint, link.rate_mb * 1e6, link.latency_ms / 1000))
            endpoints["link"] = proxy.url
        if https:  # S3 over TLS from its own server; KMS stays on the first
            endpoints["https"] = stack.enter_context(https_moto_server(command))
        kwargs = aws_kwargs(endpoint)
        kms_key_id = boto3.client("kms", **kwargs).create_key()["KeyMetadata"]["KeyId"]
        bench = Bench(endpoints, endpoint, kms_key_id, Path(tmp), size)
        write_random_file(bench.body_path, size)
        s3 = {}
        for net, url in endpoints.items():
            s3[net] = boto3.client("s3", **aws_kwargs(url))
            if net != "link":  # the link is a proxy in front of the loopback server
                s3[net].create_bucket(Bucket=BUCKET)
                warm_up(s3[net], bench.body_path)
        samples = run_rounds(bench, s3, count)
        notes = [f"server: {'moto_server_ranged.py' if command else 'stock moto_server'}"]
        if https:
            notes.append(
                "https: S3 over TLS from a second moto_server (-s, self-signed, not verified) with botocore's default "
                "checksum (CRC32 in an aws-chunked trailer, payload not hashed); KMS over HTTP"
            )
        if link is not None:
            notes.append(
                f"link: {link.describe()}; it carried {proxy.bytes_up / 1e9:.2f} GB up and "
                f"{proxy.bytes_down / 1e9:.2f} GB down over {proxy.connections} connections"
            )
    return samples, notes


# --- report ------------------------------------------------------------------------------------------------


def median(samples: list[Sample], field: str) -> float:
    values: list[float] = [getattr(sample, field) for sample in samples]
    return statistics.median(values)


def rows(samples: Samples, net: str) -> Iterator[tuple[str, str, list[Sample] | None]]:
    """(operation, client, samples) in table order; ``None`` for an operation the client does not have."""
    for op in OPS:
        for client in CLIENTS:
            if (net, client, op) in samples:
                yield op, client, samples[net, client, op]
            elif (client, op) in NOT_AVAILABLE:
                yield op, client, None


def nets_of(samples: Samples) -> list[str]:
    return [net for net in NETS if any(key[0] == net for key in samples)]


def ratio(samples: Samples, net: str, client: str, op: str, field: str) -> float:
    return median(samples[net, client, op], field) / median(samples[net, "boto3", op], field)


def spread(samples: Samples, net: str, client: str, op: str) -> str:
    """The lowest and highest ratio to boto3's wall time within one round."""
    pairs = zip(samples[net, client, op], samples[net, "boto3", op], strict=True)
    ratios = [ours.wall_s / base.wall_s for ours, base in pairs]
    return f"{min(ratios):.2f}-{max(ratios):.2f}"


def speed_table(samples: Samples, size: int) -> str:
    """One row per operation and client, ratios to boto3 first; each cell holds every network's figure."""
    nets = nets_of(samples)
    lines = [
        "| op | client | wall vs boto3 | CPU vs boto3 | ratio range | wall s | MB/s | CPU s | peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for op, client, measured in rows(samples, nets[0]):
        cells = ["n/a", *[""] * 6] if measured is None else speed_cells(samples, nets, client, op, size)
        lines.append(f"| {op} | {client} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def speed_cells(samples: Samples, nets: list[str], client: str, op: str, size: int) -> list[str]:
    def cell(figure: Callable[[str], str]) -> str:
        return " / ".join(figure(net) for net in nets)

    def medians(field: str, form: str) -> str:
        return cell(lambda net: format(median(samples[net, client, op], field), form))

    return [
        cell(lambda net: f"{ratio(samples, net, client, op, 'wall_s'):.2f}"),
        cell(lambda net: f"{ratio(samples, net, client, op, 'cpu_s'):.2f}"),
        cell(lambda net: spread(samples, net, client, op)),
        medians("wall_s", ".3f"),
        cell(lambda net: f"{size / 1e6 / median(samples[net, client, op], 'wall_s'):.0f}"),
        medians("cpu_s", ".2f"),
        medians("peak_rss_mib", ".0f"),
    ]


def memory_table(samples: Samples) -> str:
    lines = [
        f"| op | client | peak RSS MiB | vs boto3 MiB | RSS before MiB | wall s | ≤ boto3 + {MEMORY_TARGET_MIB} MiB |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for op, client, measured in rows(samples, "loopback"):
        if measured is None:
            lines.append(f"| {op} | {client} | n/a | | | | |")
            continue
        peak = median(measured, "peak_rss_mib")
        extra = peak - median(samples["loopback", "boto3", op], "peak_rss_mib")
        verdict = ("yes" if extra <= MEMORY_TARGET_MIB else "**no**") if client.startswith("s3crypt") else ""
        lines.append(
            f"| {op} | {client} | {peak:.0f} | {extra:+.0f} | {median(measured, 'start_rss_mib'):.0f} "
            f"| {median(measured, 'wall_s'):.2f} | {verdict} |"
        )
    return "\n".join(lines)


def notes(samples: Samples, run_notes: list[str]) -> str:
    before = [median(measured, "start_rss_mib") for measured in samples.values()]
    return "\n".join(
        (
            *(f"- {note}." for note in run_notes),
            "- s3crypt-delayed: s3crypt with enable_delayed_authentication=True, which changes get_object only.",
            "- upload_file and download_file: the default TransferConfig (8 MiB parts, 10 threads) for boto3 and "
            "s3crypt; the official client's own upload_file sends 8 MiB parts one after another.",
            "- n/a: the official client has no download_file; the name falls through to the wrapped boto3 client, "
            "whose ranged GETs of an object above 8 MiB then fail to decrypt.",
            "- ratio range: the lowest and highest ratio of wall times within one round; CPU s: user + system time "
            "of the client's process.",
            "- Peak RSS includes the interpreter, imports and client: RSS before the operation was "
            f"{min(before):.0f}-{max(before):.0f} MiB.",
        )
    )


def heading(what: str) -> str:
    return f"{what}, Python {sys.version.split()[0]}, boto3 {boto3.__version__}, {os.cpu_count()} CPUs"


def speed(size_mib: int, count: int, link: Link | None, *, quick: bool, https: bool) -> None:
    import bench_crypto

    size = size_mib * CHUNK
    samples, run_notes = collect(size, count, link, https=https)
    nets = " / ".join(nets_of(samples))
    print(f"{heading(f'{size_mib} MiB body, medians of {count} rounds')}; MB/s = 10^6 bytes/s", end="\n\n")
    print(f"Each cell: {nets}.", end="\n\n")
    print(speed_table(samples, size), end="\n\n")
    print(notes(samples, run_notes), end="\n\n")
    print(bench_crypto.report(size_mib, QUICK_ROUNDS if quick else bench_crypto.DEFAULT_REPEATS))


def memory(size_mib: int) -> None:
    samples, run_notes = collect(size_mib * CHUNK, 1, link=None)
    print(heading(f"Memory: {size_mib} MiB body, each operation once, loopback"), end="\n\n")
    print(memory_table(samples), end="\n\n")
    print(notes(samples, run_notes))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--memory", action="store_true", help="peak RSS of each operation once (default 1 GiB body)")
    parser.add_argument("--quick", action="store_true", help=f"a sanity run: {QUICK_MIB} MiB, {QUICK_ROUNDS} rounds")
    parser.add_argument("--size-mib", type=int, help="body size in MiB (default 256, or 1024 with --memory)")
    parser.add_argument(
        "--rounds", "--pairs", type=int, help="rounds over all clients and networks, order alternating (default 5)"
    )
    parser.add_argument("--no-link", action="store_true", help="measure on loopback only")
    parser.add_argument("--https", action="store_true", help="measure over HTTPS too (moto_server -s, loopback)")
    parser.add_argument("--link-rate-mb", type=float, default=100.0, help="per S3 connection, 10^6 bytes/s (100)")
    parser.add_argument("--link-latency-ms", type=float, default=2.0, help="one way, per S3 connection (2)")
    parser.add_argument("--worker", metavar="JOB_JSON", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        sample = measure(Job(**json.loads(args.worker)))
        print(json.dumps(dataclasses.asdict(sample)))
        return
    default_mib = 1024 if args.memory else QUICK_MIB if args.quick else 256
    size_mib = args.size_mib if args.size_mib is not None else default_mib
    count = args.rounds if args.rounds is not None else QUICK_ROUNDS if args.quick else 5
    if size_mib < 1 or count < 1:
        raise SystemExit("--size-mib and --rounds must be at least 1")
    if args.memory:
        memory(size_mib)
    else:
        link = None if args.no_link else Link(args.link_rate_mb, args.link_latency_ms)
        speed(size_mib, count, link, quick=args.quick, https=args.https)


if __name__ == "__main__":
    main()
