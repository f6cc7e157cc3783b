"""Managed transfers over real HTTP, and multipart objects exchanged with the official AWS client."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig

from tests.helpers import send_parts_and_complete
from tests.integration.test_interop import FORMATS, clients

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
PARTS = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=4)


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(16 * MIB + 3))
    return path


@pytest.mark.parametrize("version", FORMATS)
def test_peer_opens_our_upload_file(
    connection: dict[str, Any], http_kms: Any, http_key: str, bucket: str, big_file: Path, version: str
) -> None:
    ours, peer = clients(version, connection, http_kms, http_key)
    ours.upload_file(str(big_file), bucket, "ours", ExtraArgs={"EncryptionContext": {"t": "1"}}, Config=PARTS)
    got = peer.get_object(Bucket=bucket, Key="ours", EncryptionContext={"t": "1"})
    assert got["Body"].read() == big_file.read_bytes()


@pytest.mark.parametrize("version", FORMATS)
def test_we_open_the_peers_multipart_upload(
    connection: dict[str, Any],
    http_kms: Any,
    http_key: str,
    bucket: str,
    big_file: Path,
    tmp_path: Path,
    version: str,
) -> None:
    ours, peer = clients(version, connection, http_kms, http_key)
    peer.upload_file(str(big_file), bucket, "peer", multipart_chunksize=5 * MIB, EncryptionContext={"t": "2"})
    target = tmp_path / "from-peer.bin"
    ours.download_file(bucket, "peer", str(target), ExtraArgs={"EncryptionContext": {"t": "2"}}, Config=PARTS)
    assert target.read_bytes() == big_file.read_bytes()
    got = ours.get_object(Bucket=bucket, Key="peer", EncryptionContext={"t": "2"})
    assert got["Body"].read() == big_file.read_bytes()


def test_upload_fileobj_and_download_fileobj_over_http(http_s3c: Any, bucket: str) -> None:
    data = os.urandom(11 * MIB + 1)
    http_s3c.upload_fileobj(io.BytesIO(data), bucket, "stream", Config=PARTS)
    out = io.BytesIO()
    http_s3c.download_fileobj(bucket, "stream", out, Config=PARTS)
    assert out.getvalue() == data


def test_low_level_multipart_over_http(http_s3c: Any, bucket: str) -> None:
    bodies = [os.urandom(5 * MIB), os.urandom(7)]
    upload_id = http_s3c.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    send_parts_and_complete(http_s3c, bucket, "mp", upload_id, bodies)
    assert http_s3c.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"".join(bodies)
