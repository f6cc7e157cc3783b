"""Round trips over real HTTP: checksums, retries, endpoints from boto3's configuration."""

from __future__ import annotations

import os
import ssl
import urllib.request
from typing import Any

import pytest

import s3crypt
from tests.conftest import V2_OPTIONS
from tests.targets import Target

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("size", [0, 17, 1024 * 1024 + 1, 9 * 1024 * 1024])
@pytest.mark.parametrize("checksum", [None, "CRC32", "SHA256"])
def test_round_trip_with_checksums_over_http(
    http_s3c: Any, http_plain: Any, bucket: str, target: Target, size: int, checksum: str | None
) -> None:
    if checksum and not target.accepts_aws_chunked:
        pytest.skip(f"{target.name} refuses the aws-chunked body an explicit checksum makes (plain boto3 too)")
    body = os.urandom(size)
    extra = {"ChecksumAlgorithm": checksum} if checksum else {}
    http_s3c.put_object(Bucket=bucket, Key="k", Body=body, EncryptionContext={"size": str(size)}, **extra)
    assert http_plain.head_object(Bucket=bucket, Key="k")["ContentLength"] == size + 16
    got = http_s3c.get_object(Bucket=bucket, Key="k", EncryptionContext={"size": str(size)})
    assert got["Body"].read() == body


def test_file_body_streams(http_s3c: Any, bucket: str, tmp_path: Any) -> None:
    path = tmp_path / "body.bin"
    path.write_bytes(os.urandom(3 * 1024 * 1024))
    with path.open("rb") as source:
        http_s3c.put_object(Bucket=bucket, Key="f", Body=source)
    assert http_s3c.get_object(Bucket=bucket, Key="f")["Body"].read() == path.read_bytes()


def test_kms_endpoint_comes_from_boto3_configuration(
    monkeypatch: pytest.MonkeyPatch,
    connection: dict[str, Any],
    kms_connection: dict[str, Any],
    http_key: str,
    bucket: str,
) -> None:
    if "endpoint_url" in kms_connection:
        monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", kms_connection["endpoint_url"])
    client = s3crypt.Session(__import__("boto3").Session()).client("s3", kms_key_id=http_key, **connection)
    client.put_object(Bucket=bucket, Key="k", Body=b"configured by the environment")
    assert client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"configured by the environment"


def test_v2_over_http(connection: dict[str, Any], http_kms: Any, http_key: str, bucket: str) -> None:
    client = s3crypt.client("s3", keyring=s3crypt.KmsKeyring(http_key, kms_client=http_kms), **connection, **V2_OPTIONS)
    client.put_object(Bucket=bucket, Key="v2", Body=b"v2 over http")
    assert client.get_object(Bucket=bucket, Key="v2")["Body"].read() == b"v2 over http"


def test_presigned_get_serves_the_ciphertext(http_s3c: Any, bucket: str, target: Target) -> None:
    http_s3c.put_object(Bucket=bucket, Key="k", Body=b"presigned plaintext")
    url = http_s3c.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    with urllib.request.urlopen(url, context=ssl.create_default_context(cafile=target.ca_bundle)) as response:
        stored = response.read()
    assert len(stored) == len(b"presigned plaintext") + 16
    assert b"presigned" not in stored
