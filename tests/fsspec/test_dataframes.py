"""Data frames through ``s3crypt://`` on a moto_server: pandas, pyarrow datasets, polars and dask write objects
that s3crypt.client and the official AWS client decrypt, and read them back."""

from __future__ import annotations

import io
import os
from typing import Any

import boto3
import pytest
from fsspec.asyn import sync
from s3_encryption import S3EncryptionClient, S3EncryptionClientConfig
from s3_encryption.materials.kms_keyring import KmsKeyring as PeerKmsKeyring

import s3crypt
from s3crypt.fsspec import EncryptedS3FileSystem, reads
from s3crypt.testing import assert_encrypted

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

# The filesystem is built on the session's moto_server (S3 and KMS at one endpoint), not on the --s3-target.
pytestmark = [pytest.mark.integration, pytest.mark.moto_only]


def frame(rows: int = 1000) -> Any:
    return pd.DataFrame(
        {"id": range(rows), "name": [f"n{i}" for i in range(rows)], "part": [i % 3 for i in range(rows)]}
    )


def peer(connection: dict[str, Any], http_kms: Any, key_id: str) -> S3EncryptionClient:
    return S3EncryptionClient(
        boto3.client("s3", **connection), S3EncryptionClientConfig(keyring=PeerKmsKeyring(http_kms, key_id))
    )


def test_pandas_parquet_round_trip_is_ciphertext_the_clients_open(
    storage_options: dict[str, Any],
    bucket: str,
    http_s3c: Any,
    http_plain: Any,
    connection: dict[str, Any],
    http_kms: Any,
    http_key: str,
) -> None:
    df = frame()
    url = f"s3crypt://{bucket}/t.parquet"
    df.to_parquet(url, storage_options=storage_options)
    pd.testing.assert_frame_equal(pd.read_parquet(url, storage_options=storage_options), df)
    pd.testing.assert_frame_equal(pd.read_parquet(url, storage_options=storage_options, columns=["id"]), df[["id"]])
    ours = http_s3c.get_object(Bucket=bucket, Key="t.parquet")["Body"].read()
    theirs = peer(connection, http_kms, http_key).get_object(Bucket=bucket, Key="t.parquet")["Body"].read()
    assert ours == theirs
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(ours)), df)
    assert_encrypted(http_plain, bucket, "t.parquet", ours)


@pytest.mark.parametrize("size", [10 * 1024 * 1024, 12 * 1024 * 1024 + 1])
def test_the_official_client_opens_what_a_file_wrote_in_parts(
    fs: EncryptedS3FileSystem,
    bucket: str,
    connection: dict[str, Any],
    http_kms: Any,
    http_key: str,
    http_plain: Any,
    size: int,
) -> None:
    data = os.urandom(size)  # 10 MiB: two full blocks, then the tag in a part of its own
    with fs.open(f"{bucket}/parts", "wb", block_size=5 * 1024 * 1024) as f:
        for start in range(0, size, 1024 * 1024):
            f.write(data[start : start + 1024 * 1024])
    assert peer(connection, http_kms, http_key).get_object(Bucket=bucket, Key="parts")["Body"].read() == data
    assert http_plain.head_object(Bucket=bucket, Key="parts")["ETag"].endswith('-3"')


def test_a_parquet_read_fetches_the_object_once(fs: EncryptedS3FileSystem, bucket: str) -> None:
    frame().to_parquet(f"{bucket}/once.parquet", filesystem=fs)
    gets: list[int] = []
    unhooked = sync(fs.loop, reads.Parts.of(fs.s3).resources.unhooked)
    unhooked.meta.events.register("before-call.s3.GetObject", lambda **_: gets.append(1))
    pd.read_parquet(f"{bucket}/once.parquet", filesystem=fs)  # footer first, then the columns, in 2-3 opens
    pd.read_parquet(f"{bucket}/once.parquet", filesystem=fs, columns=["id"])
    assert len(gets) == 1


def test_pandas_csv_round_trip(storage_options: dict[str, Any], bucket: str, http_s3c: Any) -> None:
    df = frame()
    url = f"s3crypt://{bucket}/t.csv"
    df.to_csv(url, index=False, storage_options=storage_options)
    pd.testing.assert_frame_equal(pd.read_csv(url, storage_options=storage_options), df)
    assert http_s3c.get_object(Bucket=bucket, Key="t.csv")["Body"].read().startswith(b"id,name,part")


def test_a_pyarrow_dataset_over_a_prefix(fs: EncryptedS3FileSystem, bucket: str) -> None:
    ds = pytest.importorskip("pyarrow.dataset")
    table = pa.Table.from_pandas(frame(), preserve_index=False)
    pq.write_to_dataset(table, f"{bucket}/ds", filesystem=fs, partition_cols=["part"])
    read = ds.dataset(f"{bucket}/ds", filesystem=fs, partitioning="hive").to_table()
    assert sorted(read.column("id").to_pylist()) == list(range(1000))
    assert all(not name.endswith(".instruction") for name in fs.find(f"{bucket}/ds"))


def test_polars_through_fsspec(fs: EncryptedS3FileSystem, bucket: str) -> None:
    pl = pytest.importorskip("polars")
    df = pl.DataFrame({"a": list(range(500)), "b": ["x"] * 500})
    with fs.open(f"{bucket}/p.parquet", "wb") as f:
        df.write_parquet(f)
    with fs.open(f"{bucket}/p.parquet", "rb") as f:
        assert pl.read_parquet(f).equals(df)


@pytest.mark.cluster
def test_dask_reads_and_writes_a_partitioned_dataset_on_a_local_cluster(
    storage_options: dict[str, Any], bucket: str, http_s3c: Any
) -> None:
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("dask.distributed")
    df = frame(3000)
    options = {**storage_options, "encryption_context": {"dataset": "dask"}}
    # dask hashes storage_options: a data-key cache goes as its limits; each worker builds its own cache
    written_options = {**options, "data_key_cache": {"max_age_seconds": 60}}
    # or a filesystem, which dask hashes by fsspec's token and pickles with portable options
    fs = EncryptedS3FileSystem(**options, data_key_cache=s3crypt.DataKeyCache(max_age_seconds=60))
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster),
    ):
        written = dd.from_pandas(df, npartitions=4)
        written.to_parquet(f"s3crypt://{bucket}/dask", storage_options=written_options, partition_on=["part"])
        read = dd.read_parquet(f"{bucket}/dask", filesystem=fs).compute()
    assert sorted(read["id"].tolist()) == list(range(3000))
    keys = [entry["Key"] for entry in http_s3c.list_objects_v2(Bucket=bucket, Prefix="dask/")["Contents"]]
    parquet = next(key for key in keys if key.endswith(".parquet"))
    body = http_s3c.get_object(Bucket=bucket, Key=parquet, EncryptionContext={"dataset": "dask"})["Body"]
    assert body.read().startswith(b"PAR1")
