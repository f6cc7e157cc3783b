"""Server-side encryption as an independent layer, and binding objects to their bucket and key."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from s3_encryption import S3EncryptionClient, S3EncryptionClientConfig
from s3_encryption.materials.kms_keyring import KmsKeyring as PeerKmsKeyring

import s3crypt
from s3crypt._format.context import decode_json
from s3crypt._operations.unhooked import unhooked
from s3crypt.testing import TEST_REGION
from tests.conftest import BUCKET
from tests.helpers import send_parts_and_complete

pytestmark = pytest.mark.front_ends  # each test runs on the sync and the asyncio client

MIB = 1024 * 1024
PARTS = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
SSE_C = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": os.urandom(32)}


@pytest.fixture(params=["AES256", "aws:kms", "aws:kms:dsse"])
def sse(request: pytest.FixtureRequest, kms_key: str) -> dict[str, Any]:
    if request.param == "AES256":
        return {"ServerSideEncryption": "AES256"}
    return {"ServerSideEncryption": request.param, "SSEKMSKeyId": kms_key, "BucketKeyEnabled": True}


def test_sse_passes_through_every_write_and_reaches_the_caller(
    s3c: Any, plain_s3: Any, sse: dict[str, Any], tmp_path: Path
) -> None:
    put = s3c.put_object(Bucket=BUCKET, Key="put", Body=b"layered", **sse)
    assert put["ServerSideEncryption"] == sse["ServerSideEncryption"]
    got = s3c.get_object(Bucket=BUCKET, Key="put")
    assert (got["ServerSideEncryption"], got["Body"].read()) == (sse["ServerSideEncryption"], b"layered")

    upload_id = s3c.create_multipart_upload(Bucket=BUCKET, Key="mp", **sse)["UploadId"]
    send_parts_and_complete(s3c, BUCKET, "mp", upload_id, [b"p"])
    source = tmp_path / "f"
    source.write_bytes(os.urandom(6 * MIB))
    s3c.upload_file(str(source), BUCKET, "file", ExtraArgs=sse, Config=PARTS)
    s3c.copy_object(Bucket=BUCKET, Key="copy", CopySource={"Bucket": BUCKET, "Key": "put"}, **sse)
    s3c.rewrap_object(Bucket=BUCKET, Key="put", new_keyring=s3c.encryption_config.keyring)
    for key in ("put", "mp", "file", "copy"):
        head = plain_s3.head_object(Bucket=BUCKET, Key=key)
        assert head["ServerSideEncryption"] == sse["ServerSideEncryption"], key
    s3c.download_file(BUCKET, "file", str(tmp_path / "back"), Config=PARTS)
    assert (tmp_path / "back").read_bytes() == source.read_bytes()


@pytest.fixture
def sent_headers(s3c: Any) -> list[tuple[str, dict[str, str]]]:
    """Every request the client sends, s3crypt's own (through its unhooked client) too: its operation and
    headers (moto does not enforce SSE-C, so we look)."""
    sent: list[tuple[str, dict[str, str]]] = []

    def record(request: Any, event_name: str, **_: Any) -> None:
        sent.append((event_name.rsplit(".", 1)[-1], {k.lower(): v for k, v in request.headers.items()}))

    s3c.meta.events.register("before-send.s3", record)
    unhooked(s3c).meta.events.register("before-send.s3", record)
    return sent


def test_sse_c_is_sent_again_on_every_read_and_copy(
    s3c: Any, keyring: s3crypt.KmsKeyring, sent_headers: list[Any], tmp_path: Path, make_client: Any
) -> None:
    ranged = make_client(keyring=keyring, enable_ranged_get=True)
    source = tmp_path / "f"
    source.write_bytes(os.urandom(11 * MIB))
    s3c.upload_file(str(source), BUCKET, "k", ExtraArgs=SSE_C, Config=PARTS)
    s3c.get_object(Bucket=BUCKET, Key="k", **SSE_C)["Body"].read()
    s3c.download_file(BUCKET, "k", str(tmp_path / "out"), ExtraArgs=SSE_C, Config=PARTS)
    s3c.rewrap_object(Bucket=BUCKET, Key="k", new_keyring=keyring, **SSE_C)
    ranged.meta.events.register(
        "before-send.s3",
        lambda request, **_: sent_headers.append(("RangedGet", {k.lower(): v for k, v in request.headers.items()})),
    )
    ranged.get_object(Bucket=BUCKET, Key="k", Range="bytes=5-100", **SSE_C)["Body"].read()

    key_header = "x-amz-server-side-encryption-customer-key"
    needs_key = {
        "PutObject",
        "CreateMultipartUpload",
        "UploadPart",
        "HeadObject",
        "GetObject",
        "CopyObject",
        "RangedGet",
    }
    checked = [(operation, headers) for operation, headers in sent_headers if operation in needs_key]
    assert {operation for operation, _ in checked} >= {"UploadPart", "GetObject", "HeadObject", "CopyObject"}
    for operation, headers in checked:
        if operation == "GetObject" and key_header not in headers:
            continue  # s3crypt's own unencrypted-by-SSE-C read: the instruction-file probe, never an object read
        assert key_header in headers, operation
    copies = [headers for operation, headers in sent_headers if operation == "CopyObject"]
    assert all("x-amz-copy-source-server-side-encryption-customer-key" in headers for headers in copies)


# Location binding


@pytest.fixture
def bound(plain_s3: Any, keyring: s3crypt.KmsKeyring, make_client: Any) -> Any:
    return make_client(keyring=keyring, bind_object_location=True)


def test_bound_objects_carry_their_location(bound: Any, plain_s3: Any) -> None:
    bound.put_object(Bucket=BUCKET, Key="a/b", Body=b"here", EncryptionContext={"t": "1"})
    stored = decode_json(plain_s3.head_object(Bucket=BUCKET, Key="a/b")["Metadata"]["x-amz-t"], "x-amz-t")
    assert stored["s3crypt:location"] == f"arn:aws:s3:::{BUCKET}/a/b"
    assert bound.get_object(Bucket=BUCKET, Key="a/b", EncryptionContext={"t": "1"})["Body"].read() == b"here"


def test_a_plain_copy_elsewhere_fails_to_decrypt_and_says_why(bound: Any, plain_s3: Any) -> None:
    bound.put_object(Bucket=BUCKET, Key="a", Body=b"bound")
    plain_s3.copy_object(Bucket=BUCKET, Key="b", CopySource={"Bucket": BUCKET, "Key": "a"})
    with pytest.raises(s3crypt.DecryptionError, match=f"bound to arn:aws:s3:::{BUCKET}/a but is read at"):
        bound.get_object(Bucket=BUCKET, Key="b")


def test_a_copy_through_s3crypt_rebinds(bound: Any, plain_s3: Any, kms_calls: Any) -> None:
    bound.put_object(Bucket=BUCKET, Key="a", Body=b"moves", Metadata={"owner": "o"}, ContentType="text/x")
    bound.copy_object(Bucket=BUCKET, Key="b", CopySource=f"{BUCKET}/a")
    assert bound.get_object(Bucket=BUCKET, Key="b")["Body"].read() == b"moves"
    assert bound.get_object(Bucket=BUCKET, Key="a")["Body"].read() == b"moves"
    head = plain_s3.head_object(Bucket=BUCKET, Key="b")
    assert (head["Metadata"]["owner"], head["ContentType"]) == ("o", "text/x")
    bound.rewrap_object(Bucket=BUCKET, Key="b", new_keyring=bound.encryption_config.keyring)
    assert bound.get_object(Bucket=BUCKET, Key="b")["Body"].read() == b"moves"


def test_the_official_client_reads_a_bound_object_given_the_entry(bound: Any, kms: Any, kms_key: str) -> None:
    bound.put_object(Bucket=BUCKET, Key="k", Body=b"for the peer", EncryptionContext={"t": "1"})
    peer = S3EncryptionClient(
        boto3.client("s3", region_name=TEST_REGION), S3EncryptionClientConfig(keyring=PeerKmsKeyring(kms, kms_key))
    )
    context = {"t": "1", "s3crypt:location": f"arn:aws:s3:::{BUCKET}/k"}
    assert peer.get_object(Bucket=BUCKET, Key="k", EncryptionContext=context)["Body"].read() == b"for the peer"


def test_binding_needs_kms_and_owns_its_entry(bound: Any) -> None:
    with pytest.raises(s3crypt.ConfigurationError, match="KMS"):
        s3crypt.client("s3", keyring=s3crypt.AesKeyring(bytes(32)), bind_object_location=True)
    with pytest.raises(s3crypt.ConfigurationError, match="s3crypt:location"):
        bound.put_object(Bucket=BUCKET, Key="k", Body=b"x", EncryptionContext={"s3crypt:location": "elsewhere"})
    with pytest.raises(s3crypt.ConfigurationError, match="aws:"):
        bound.put_object(Bucket=BUCKET, Key="k", Body=b"x", EncryptionContext={"aws:s3:arn": "x"})
