"""Libraries that take a boto3 client work with an s3crypt client: smart_open, writing and reading."""

from __future__ import annotations

import os
from typing import Any

import pytest
import smart_open

import s3crypt
from s3crypt.testing import TEST_REGION
from tests.conftest import BUCKET

MIB = 1024 * 1024
URL = f"s3://{BUCKET}/k"


@pytest.mark.parametrize(
    ("size", "part_size"),
    [(0, 5 * MIB), (1000, 5 * MIB), (6 * MIB, 50 * MIB), (12 * MIB + 3, 5 * MIB), (10 * MIB, 5 * MIB)],
    ids=["empty", "small", "one-part-over-5-mib", "small-last-part", "parts-of-exactly-5-mib"],
)
def test_smart_open_writes_and_reads_through_an_s3crypt_client(
    s3c: Any, plain_s3: Any, size: int, part_size: int
) -> None:
    data = os.urandom(size)
    params = {"client": s3c, "min_part_size": part_size}
    with smart_open.open(URL, "wb", transport_params=params) as out:
        for start in range(0, size, MIB):
            out.write(data[start : start + MIB])
    assert plain_s3.head_object(Bucket=BUCKET, Key="k")["ContentLength"] == size + 16  # stored encrypted
    with smart_open.open(URL, "rb", transport_params={"client": s3c}) as source:
        assert source.read() == data
    assert s3c.get_object(Bucket=BUCKET, Key="k")["Body"].read() == data


def test_a_range_covering_the_whole_object_is_an_authenticated_read(s3c: Any, plain_s3: Any) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=b"whole")
    got = s3c.get_object(Bucket=BUCKET, Key="k", Range="bytes=0-")
    assert (got["Body"].read(), got["ContentRange"], got["ContentLength"]) == (b"whole", "bytes 0-4/5", 5)
    stored = plain_s3.get_object(Bucket=BUCKET, Key="k")
    body = bytearray(stored["Body"].read())
    body[0] ^= 1
    plain_s3.put_object(Bucket=BUCKET, Key="k", Body=bytes(body), Metadata=stored["Metadata"])
    with pytest.raises(s3crypt.DecryptionError):
        s3c.get_object(Bucket=BUCKET, Key="k", Range="bytes=0-")["Body"].read()


def test_other_ranges_still_need_enable_ranged_get(s3c: Any) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=b"whole")
    with pytest.raises(s3crypt.ConfigurationError, match="enable_ranged_get"):
        s3c.get_object(Bucket=BUCKET, Key="k", Range="bytes=0-4")


def test_smart_open_seeks_with_ranged_gets_when_enabled(plain_s3: Any, keyring: s3crypt.KmsKeyring) -> None:
    client = s3crypt.client("s3", keyring=keyring, region_name=TEST_REGION, enable_ranged_get=True)
    data = os.urandom(100_000)
    client.put_object(Bucket=BUCKET, Key="k", Body=data)
    with smart_open.open(URL, "rb", transport_params={"client": client}) as source:
        source.seek(50_000)
        assert source.read(10) == data[50_000:50_010]
