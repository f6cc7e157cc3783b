"""Time the asyncio client (s3crypt.aio) against plain aiobotocore on the same moto_server.

Usage: python benches/bench_aio.py [--size-mib 256] [--rounds 3] [--small 1000] [--tasks 64]
       python benches/bench_aio.py --quick                   # 16 MiB, 1 round, 200 small objects: a sanity run
       python benches/bench_aio.py --memory --size-mib 1024  # peak RSS of one put and one get each

Measured: put_object of a file body and get_object read in 1 MiB chunks (authenticated, and with delayed
authentication), each in its own child process so its peak RSS is its own and imports and client creation stay
outside the timed region (each client first puts and gets a small object, untimed, as a long-lived client has);
then upload_file and download_file of the asyncio client against plain boto3's (s3transfer's threads; aiobotocore
has no managed transfers), the same file and TransferConfig defaults; then ``--small`` objects of 4 KiB put and
got back by ``--tasks`` concurrent tasks on one client (s3crypt with a DataKeyCache). The server is moto_server
with ranged reads (shared/tools/moto_server_ranged.py when present). Over HTTP botocore reads a put body three
times (CRC32, SHA-256 signing, the send), so s3crypt encrypts it three times, as the sync client does; AES-GCM
runs at GB/s, well above moto's throughput. Targets (issue 18): put and delayed get at most 1.15x plain
aiobotocore, the small objects at most 1.3x, peak RSS within aiobotocore's + 64 MiB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3

CHUNK = 1024 * 1024
SMALL_SIZE = 4096
BUCKET = "bench-aio"
ACCOUNT = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
RANGED_LAUNCHER = Path("shared", "tools", "moto_server_ranged.py")
MEMORY_TARGET_MIB = 64
TARGETS = {"put_object": 1.15, "get_object (delayed)": 1.15, "small objects": 1.3}


def launcher() -> list[str] | None:
    for base in Path(__file__).resolve().parents:
        if (base / RANGED_LAUNCHER).exists():
            return [sys.executable, str(base / RANGED_LAUNCHER)]
    return None


async def make_client(job: dict[str, Any]) -> Any:
    connection = {"endpoint_url": job["endpoint"], **ACCOUNT}
    if job["client"] == "aiobotocore":
        from aiobotocore.session import AioSession

        return AioSession().create_client("s3", **connection)
    import s3crypt
    import s3crypt.aio

    os.environ["AWS_ENDPOINT_URL_KMS"] = job["endpoint"]
    options: dict[str, Any] = {"enable_delayed_authentication": job["client"] == "s3crypt-delayed"}
    if job["op"] == "small":
        options["data_key_cache"] = s3crypt.DataKeyCache()
    return s3crypt.aio.create_client("s3", kms_key_id=job["key_id"], **connection, **options)


async def run_job(job: dict[str, Any]) -> float:
    async with await make_client(job) as s3:
        if job["op"] == "small":
            await small_objects(s3, job)  # once untimed: connections and the data key warm up
        else:
            await warm_up(s3, job)
        started = time.perf_counter()
        if job["op"] == "put_object":
            with open(job["body"], "rb") as body:
                await s3.put_object(Bucket=BUCKET, Key=job["key"], Body=body)
        elif job["op"] == "get_object":
            response = await s3.get_object(Bucket=BUCKET, Key=job["key"])
            async with response["Body"] as body:
                while await body.read(CHUNK):
                    pass
        elif job["op"] == "upload_file":
            await s3.upload_file(job["body"], BUCKET, job["key"])
        elif job["op"] == "download_file":
            await s3.download_file(BUCKET, job["key"], job["target"])
        else:
            await small_objects(s3, job)
        return time.perf_counter() - started


def run_boto3_job(job: dict[str, Any]) -> float:
    """A managed transfer of plain boto3 (s3transfer's threads), the baseline of the asyncio client's."""
    s3 = boto3.client("s3", endpoint_url=job["endpoint"], **ACCOUNT)
    s3.put_object(Bucket=BUCKET, Key="warm-up/boto3", Body=b"warm")
    s3.get_object(Bucket=BUCKET, Key="warm-up/boto3")["Body"].read()
    started = time.perf_counter()
    if job["op"] == "upload_file":
        s3.upload_file(job["body"], BUCKET, job["key"])
    else:
        s3.download_file(BUCKET, job["key"], job["target"])
    return time.perf_counter() - started


async def warm_up(s3: Any, job: dict[str, Any]) -> None:
    """One small put and get, untimed, as a long-lived client has made: its connections open, and the first call
    of each operation (S3's and KMS's) past its one-time costs (models, endpoint rules)."""
    key = f"warm-up/{job['client']}"
    await s3.put_object(Bucket=BUCKET, Key=key, Body=b"warm")
    await (await s3.get_object(Bucket=BUCKET, Key=key))["Body"].read()


async def small_objects(s3: Any, job: dict[str, Any]) -> None:
    slots = asyncio.Semaphore(job["tasks"])
    body = os.urandom(SMALL_SIZE)

    async def one(index: int) -> None:
        async with slots:
            key = f"{job['key']}/{index}"
            await s3.put_object(Bucket=BUCKET, Key=key, Body=body)
            response = await s3.get_object(Bucket=BUCKET, Key=key)
            assert await response["Body"].read() == body

    await asyncio.gather(*(one(index) for index in range(job["count"])))


def child(job: dict[str, Any]) -> None:
    seconds = run_boto3_job(job) if job["client"] == "boto3" else asyncio.run(run_job(job))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mib": peak_mib}))


def measure(job: dict[str, Any]) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(job)], check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def large(base: dict[str, Any], body: str, rounds: int) -> list[tuple[str, str, dict[str, float]]]:
    """put_object and get_object of each client, and the managed transfers of s3crypt's asyncio client and of plain
    boto3 (aiobotocore has none), ``rounds`` times (medians of time, maxima of RSS)."""
    rows = []
    plan = [
        ("put_object", "aiobotocore", "plain"),
        ("put_object", "s3crypt", "encrypted"),
        ("get_object", "aiobotocore", "plain"),
        ("get_object", "s3crypt", "encrypted"),
        ("get_object (delayed)", "aiobotocore", "plain"),
        ("get_object (delayed)", "s3crypt-delayed", "encrypted"),
        ("upload_file", "boto3", "uploaded-plain"),
        ("upload_file", "s3crypt", "uploaded-encrypted"),
        ("download_file", "boto3", "plain"),
        ("download_file", "s3crypt", "encrypted"),
    ]
    for label, client, key in plan:
        op = label.split()[0]
        job = {**base, "client": client, "op": op, "key": key, "body": body, "target": f"{body}.{client}.download"}
        results = [measure(job) for _ in range(rounds)]
        summary = {
            "seconds": statistics.median(r["seconds"] for r in results),
            "peak_mib": max(r["peak_mib"] for r in results),
        }
        rows.append((label, client, summary))
    return rows


def report(rows: list[tuple[str, str, dict[str, float]]], size_mib: int) -> None:
    print(f"\n{'operation':<22} {'client':<16} {'seconds':>8} {'MB/s':>7} {'peak RSS MiB':>13} {'ratio':>6} target")
    by_label: dict[str, dict[str, float]] = {}
    for label, client, summary in rows:
        baseline = by_label.setdefault(label, summary)
        ratio = summary["seconds"] / baseline["seconds"]
        extra = summary["peak_mib"] - baseline["peak_mib"]
        target = TARGETS.get(label)
        verdict = "" if baseline is summary else f"{'<=' if target else ''}{target or '-'} RSS +{extra:.0f} MiB"
        speed = size_mib * CHUNK / summary["seconds"] / 1e6 if label != "small objects" else float("nan")
        print(
            f"{label:<22} {client:<16} {summary['seconds']:>8.2f} {speed:>7.0f} {summary['peak_mib']:>13.0f} "
            f"{ratio:>6.2f} {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=64)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--memory", action="store_true", help="one round each, no small objects")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    if args.quick:
        args.size_mib, args.rounds, args.small = 16, 1, 200
    if args.memory:
        args.rounds = 1
    from s3crypt.testing import moto_server

    with moto_server(launcher()) as endpoint, tempfile.TemporaryDirectory() as scratch:
        boto3.client("s3", endpoint_url=endpoint, **ACCOUNT).create_bucket(Bucket=BUCKET)
        key_id = boto3.client("kms", endpoint_url=endpoint, **ACCOUNT).create_key()["KeyMetadata"]["KeyId"]
        body = os.path.join(scratch, "body")
        with open(body, "wb") as out:
            for _ in range(args.size_mib):
                out.write(os.urandom(CHUNK))
        base = {"endpoint": endpoint, "key_id": key_id, "tasks": args.tasks, "count": args.small}
        print(f"moto_server {'with ranged reads' if launcher() else '(stock)'} at {endpoint}; {args.size_mib} MiB")
        rows = large(base, body, args.rounds)
        if not args.memory:
            for client in ("aiobotocore", "s3crypt"):
                job = {**base, "client": client, "op": "small", "key": client}
                results = [measure(job) for _ in range(args.rounds)]
                summary = {"seconds": statistics.median(r["seconds"] for r in results), "peak_mib": 0.0}
                rows.append(("small objects", client, summary))
        report(rows, args.size_mib)
        if not args.memory:
            print(f"\nsmall objects: {args.small} x {SMALL_SIZE} B put then got, {args.tasks} concurrent tasks")
        print(f"memory target: s3crypt's peak RSS within aiobotocore's + {MEMORY_TARGET_MIB} MiB")


if __name__ == "__main__":
    main()
