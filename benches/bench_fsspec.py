"""Read a parquet file through ``s3crypt://`` and through ``s3://`` (plain s3fs) from the same moto_server.

Usage: python benches/bench_fsspec.py [--size-mib 256] [--rounds 3]
       python benches/bench_fsspec.py --quick          # 16 MiB, 2 rounds: a sanity run

One moto_server (``moto_server_ranged.py`` from the shared tools when present, which reads only the bytes of a
ranged GET, as S3 does; else stock moto) holds the same table twice: as a plain object written through s3fs and
as an encrypted object written through ``s3crypt://``. Each round reads each with ``pyarrow.parquet.read_table``
through a new filesystem (so nothing is cached between rounds): all columns, then two of them. Prints a
markdown table of median seconds and the ratio s3crypt:// / s3://. Target: all columns at most 1.3 times s3://.
A few columns through s3crypt:// still fetch and verify the whole object once (the footer and column chunks
are then served from the verified copy), so that row compares a whole-object read against s3fs's ranged reads.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import s3fs

from s3crypt.fsspec import EncryptedS3FileSystem
from s3crypt.testing import TEST_CREDENTIALS, TEST_REGION, moto_server

BUCKET = "bench"
COLUMNS = 8
RANGED_LAUNCHER = Path("/work/shared/tools/moto_server_ranged.py")


def table(size_mib: int) -> pa.Table:
    """Random float64 columns (incompressible), about ``size_mib`` MiB as parquet."""
    rows = size_mib * 1024 * 1024 // (8 * COLUMNS)
    generator = np.random.default_rng(7)
    return pa.table({f"c{i}": generator.random(rows) for i in range(COLUMNS)})


def median_seconds(rounds: int, run: Callable[[], Any]) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    size_mib, rounds = (16, 2) if args.quick else (args.size_mib, args.rounds)
    launcher = [sys.executable, str(RANGED_LAUNCHER)] if RANGED_LAUNCHER.exists() else None
    with moto_server(launcher) as endpoint:
        os.environ["AWS_ENDPOINT_URL_KMS"] = endpoint
        connection = {"endpoint_url": endpoint, "region_name": TEST_REGION, **TEST_CREDENTIALS}
        boto3.client("s3", **connection).create_bucket(Bucket=BUCKET)
        key_id = boto3.client("kms", **connection).create_key()["KeyMetadata"]["KeyId"]
        plain_options = {
            "endpoint_url": endpoint,
            "key": TEST_CREDENTIALS["aws_access_key_id"],
            "secret": TEST_CREDENTIALS["aws_secret_access_key"],
            "client_kwargs": {"region_name": TEST_REGION},
            "skip_instance_cache": True,
        }

        def plain() -> s3fs.S3FileSystem:
            return s3fs.S3FileSystem(**plain_options)

        def encrypted() -> EncryptedS3FileSystem:
            return EncryptedS3FileSystem(**plain_options, kms_key_id=key_id)

        data = table(size_mib)
        pq.write_table(data, f"{BUCKET}/plain.parquet", filesystem=plain())
        pq.write_table(data, f"{BUCKET}/encrypted.parquet", filesystem=encrypted())
        stored = plain().info(f"{BUCKET}/plain.parquet")["size"]
        print(f"parquet file: {stored / 2**20:.1f} MiB, {COLUMNS} columns; {rounds} rounds", file=sys.stderr)
        rows = []
        for label, columns in (("all columns", None), ("2 columns", ["c0", "c1"])):
            times = {}
            for name, make, key in (("s3://", plain, "plain"), ("s3crypt://", encrypted, "encrypted")):
                times[name] = median_seconds(
                    rounds,
                    lambda make=make, key=key, columns=columns: pq.read_table(
                        f"{BUCKET}/{key}.parquet", filesystem=make(), columns=columns
                    ),
                )
                print(f"{label} {name}: {times[name]:.2f} s", file=sys.stderr)
            rows.append((label, times["s3://"], times["s3crypt://"]))
    print(f"\n| read of a {stored / 2**20:.0f} MiB parquet file | s3:// (s3fs) s | s3crypt:// s | ratio |")
    print("|---|---|---|---|")
    for label, plain_s, encrypted_s in rows:
        print(f"| {label} | {plain_s:.2f} | {encrypted_s:.2f} | {encrypted_s / plain_s:.2f} |")


if __name__ == "__main__":
    main()
