"""What a real S3 server enforces, run on every S3 target: SSE-C on every read, write and copy; ranges across
part boundaries; retried requests that resend the very same ciphertext, with the checksum of that ciphertext.

Nothing here relies on what only moto does (such as a non-empty ETag from CompleteMultipartUpload).
"""

from __future__ import annotations

import base64
import io
import os
import threading
import urllib.parse
import uuid
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

import s3crypt
from s3crypt._operations.unhooked import unhooked
from tests.targets import Target

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
PARTS = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=2)
SSE_C = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": os.urandom(32)}
OTHER_SSE_C = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": os.urandom(32)}
COPY_SOURCE_SSE_C = {"CopySource" + name: value for name, value in SSE_C.items()}


def upload_in_parts(
    client: Any, bucket: str, key: str, parts: list[bytes], context: dict[str, str] | None = None, **extra: Any
) -> None:
    """A low-level multipart upload; ``extra`` (SSE-C) goes on every call. Ignores Complete's ETag (empty on RGW)."""
    create = {"EncryptionContext": context} if context else {}
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, **create, **extra)["UploadId"]
    sent = []
    for number, body in enumerate(parts, start=1):
        last = number == len(parts)
        response = client.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body, IsLastPart=last, **extra
        )
        sent.append({"ETag": response["ETag"], "PartNumber": number})
    client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": sent}, **extra
    )


def enforced(target: Target) -> None:
    if not target.enforces_sse_c:
        pytest.skip(f"{target.name} does not enforce SSE-C")


# SSE-C


def test_sse_c_object_reads_only_with_its_key(http_s3c: Any, http_plain: Any, bucket: str, target: Target) -> None:
    enforced(target)
    http_s3c.put_object(Bucket=bucket, Key="k", Body=b"under two keys", **SSE_C)
    assert http_s3c.get_object(Bucket=bucket, Key="k", **SSE_C)["Body"].read() == b"under two keys"
    for client in (http_s3c, http_plain):
        with pytest.raises(ClientError, match=r"GetObject"):
            client.get_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError):
        http_s3c.get_object(Bucket=bucket, Key="k", **OTHER_SSE_C)


def test_sse_c_download_without_the_key_fails_and_leaves_no_file(
    http_s3c: Any, bucket: str, target: Target, tmp_path: Path
) -> None:
    enforced(target)
    http_s3c.put_object(Bucket=bucket, Key="k", Body=os.urandom(1000), **SSE_C)
    with pytest.raises(ClientError):
        http_s3c.download_file(bucket, "k", str(tmp_path / "out"))
    assert list(tmp_path.iterdir()) == []


def test_sse_c_across_multipart_and_ranged_downloads(http_s3c: Any, bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.write_bytes(os.urandom(11 * MIB + 3))
    http_s3c.upload_file(str(source), bucket, "file", ExtraArgs=SSE_C, Config=PARTS)
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), os.urandom(9)]
    upload_in_parts(http_s3c, bucket, "parts", parts, **SSE_C)

    http_s3c.download_file(bucket, "file", str(tmp_path / "file"), ExtraArgs=SSE_C, Config=PARTS)
    out = io.BytesIO()
    http_s3c.download_fileobj(bucket, "parts", out, ExtraArgs=SSE_C, Config=PARTS)

    assert (tmp_path / "file").read_bytes() == source.read_bytes()
    assert out.getvalue() == b"".join(parts)


def test_sse_c_copies_need_the_source_key(http_s3c: Any, bucket: str, target: Target) -> None:
    if not target.copies_sse_c:
        pytest.skip(f"{target.name} answers NotImplemented to any copy of an SSE-C object")
    http_s3c.put_object(Bucket=bucket, Key="src", Body=b"copied under SSE-C", **SSE_C)
    source = {"Bucket": bucket, "Key": "src"}

    http_s3c.copy_object(CopySource=source, Bucket=bucket, Key="rekeyed", **COPY_SOURCE_SSE_C, **OTHER_SSE_C)
    http_s3c.copy_object(CopySource=source, Bucket=bucket, Key="plain", **COPY_SOURCE_SSE_C)
    http_s3c.rewrap_object(Bucket=bucket, Key="src", new_keyring=http_s3c.encryption_config.keyring, **SSE_C)

    assert http_s3c.get_object(Bucket=bucket, Key="rekeyed", **OTHER_SSE_C)["Body"].read() == b"copied under SSE-C"
    assert http_s3c.get_object(Bucket=bucket, Key="plain")["Body"].read() == b"copied under SSE-C"
    assert http_s3c.get_object(Bucket=bucket, Key="src", **SSE_C)["Body"].read() == b"copied under SSE-C"
    if target.enforces_sse_c:
        with pytest.raises(ClientError):
            http_s3c.copy_object(CopySource=source, Bucket=bucket, Key="keyless")


# SSE-KMS


def test_sse_kms_under_client_side_encryption(http_s3c: Any, http_key: str, bucket: str, target: Target) -> None:
    sse = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": target.sse_kms_key_id or http_key}
    data = os.urandom(11 * MIB)
    put = http_s3c.put_object(Bucket=bucket, Key="small", Body=b"two layers", **sse)
    http_s3c.upload_fileobj(io.BytesIO(data), bucket, "big", ExtraArgs=sse, Config=PARTS)

    assert put["ServerSideEncryption"] == "aws:kms"
    for key, body in (("small", b"two layers"), ("big", data)):
        got = http_s3c.get_object(Bucket=bucket, Key=key)
        assert got["ServerSideEncryption"] == "aws:kms"
        assert got["Body"].read() == body


# Copies


def test_copies_and_key_rotation_of_a_multipart_object(http_s3c: Any, bucket: str) -> None:
    """Server-side copies keep the ciphertext and the envelope; the copy onto itself sends If-Match on the ETag."""
    parts = [os.urandom(5 * MIB), os.urandom(3)]
    upload_in_parts(http_s3c, bucket, "src", parts, context={"v": "1"})
    keyring = http_s3c.encryption_config.keyring

    http_s3c.copy_object(CopySource={"Bucket": bucket, "Key": "src"}, Bucket=bucket, Key="copy")
    http_s3c.rewrap_object(
        Bucket=bucket, Key="src", new_keyring=keyring, EncryptionContext={"v": "1"}, NewEncryptionContext={"v": "2"}
    )

    copied = http_s3c.get_object(Bucket=bucket, Key="copy", EncryptionContext={"v": "1"})
    assert copied["Body"].read() == b"".join(parts)
    rotated = http_s3c.get_object(Bucket=bucket, Key="src", EncryptionContext={"v": "2"})
    assert rotated["Body"].read() == b"".join(parts)
    with pytest.raises(s3crypt.DecryptionError):
        http_s3c.get_object(Bucket=bucket, Key="src", EncryptionContext={"v": "1"})


# Keys, instruction files and S3's own errors

ODD_KEY = "dir/ünï cödé + space%2F&=?.txt"


def test_odd_keys_with_instruction_files_copies_and_deletes(http_s3c: Any, http_plain: Any, bucket: str) -> None:
    http_s3c.put_object(Bucket=bucket, Key=ODD_KEY, Body=b"odd", EncryptionContext={"a": "1"}, InstructionFile=True)
    http_s3c.copy_object(CopySource={"Bucket": bucket, "Key": ODD_KEY}, Bucket=bucket, Key=ODD_KEY + ".copy")

    assert http_s3c.get_object(Bucket=bucket, Key=ODD_KEY, EncryptionContext={"a": "1"})["Body"].read() == b"odd"
    stored = {item["Key"] for item in http_plain.list_objects_v2(Bucket=bucket)["Contents"]}
    copy_files = {ODD_KEY + ".copy", ODD_KEY + ".copy.instruction"}  # a copy takes its instruction file along
    assert stored == {ODD_KEY, ODD_KEY + ".instruction", *copy_files}
    response = http_s3c.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": ODD_KEY}]})
    assert [deleted["Key"] for deleted in response["Deleted"]] == [ODD_KEY]
    assert {item["Key"] for item in http_plain.list_objects_v2(Bucket=bucket)["Contents"]} == copy_files
    copied = http_s3c.get_object(Bucket=bucket, Key=ODD_KEY + ".copy", EncryptionContext={"a": "1"})
    assert copied["Body"].read() == b"odd"


def test_s3_errors_reach_the_caller_untouched(http_s3c: Any, bucket: str, tmp_path: Path) -> None:
    etag = http_s3c.put_object(Bucket=bucket, Key="k", Body=b"x" * 100)["ETag"]
    cases = [
        (lambda: http_s3c.get_object(Bucket=bucket, Key="k", IfNoneMatch=etag), "304"),
        (lambda: http_s3c.get_object(Bucket=bucket, Key="k", IfMatch='"0123"'), "PreconditionFailed|412"),
        (lambda: http_s3c.get_object(Bucket=bucket, Key="missing"), "NoSuchKey"),
        (lambda: http_s3c.head_object(Bucket=bucket, Key="missing"), "404"),
        (lambda: http_s3c.download_file(bucket, "missing", str(tmp_path / "missing")), "404"),
        (lambda: http_s3c.get_object(Bucket=f"s3crypt-none-{uuid.uuid4().hex}", Key="k"), "NoSuchBucket"),
    ]
    for call, code in cases:
        with pytest.raises(ClientError, match=code):
            call()
    assert list(tmp_path.iterdir()) == []


# Ranges


@pytest.fixture
def ranged(connection: dict[str, Any], http_kms: Any, http_key: str, bucket: str) -> Any:
    keyring = s3crypt.KmsKeyring(http_key, kms_client=http_kms)
    return s3crypt.client("s3", keyring=keyring, enable_ranged_get=True, **connection)


def test_ranges_across_part_boundaries(ranged: Any, bucket: str, tmp_path: Path) -> None:
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), os.urandom(100)]
    whole = b"".join(parts)
    upload_in_parts(ranged, bucket, "parts", parts)
    boundaries = [5 * MIB, 10 * MIB]
    ranges = [(b - 17, b + 16) for b in boundaries] + [(b - 1, b) for b in boundaries] + [(3, len(whole) - 1)]
    for first, last in ranges:
        got = ranged.get_object(Bucket=bucket, Key="parts", Range=f"bytes={first}-{last}")
        assert got["Body"].read() == whole[first : last + 1], (first, last)
    suffix = ranged.get_object(Bucket=bucket, Key="parts", Range="bytes=-120")["Body"].read()
    assert suffix == whole[-120:]
    unaligned = TransferConfig(multipart_threshold=3 * MIB, multipart_chunksize=3 * MIB, max_concurrency=2)
    ranged.download_file(bucket, "parts", str(tmp_path / "out"), Config=unaligned)
    assert (tmp_path / "out").read_bytes() == whole


# Retries


class InternalError:
    """The raw body of an S3 500 response, which botocore's standard retry mode retries."""

    def stream(self) -> Any:
        yield b"<Error><Code>InternalError</Code><Message>injected</Message></Error>"


class FailEachRequestOnce:
    """A ``before-send`` handler: records every body sent, and answers 500 to the first send of each part."""

    def __init__(self) -> None:
        self.sent: dict[str, list[tuple[bytes, dict[str, str]]]] = defaultdict(list)
        self._lock = threading.Lock()

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.url).query)
        part = query.get("partNumber", ["whole"])[0]
        body = request.body.read()
        request.body.seek(0)
        with self._lock:
            self.sent[part].append((body, {k.lower(): _text(v) for k, v in request.headers.items()}))
            first = len(self.sent[part]) == 1
        return AWSResponse(request.url, 500, {}, InternalError()) if first else None


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def ciphertext_and_checksum(body: bytes, headers: dict[str, str]) -> tuple[bytes, str | None]:
    """The bytes a request sends as its object content, and the CRC32 it sends with them, if any."""
    if headers.get("content-encoding") != "aws-chunked":
        return body, headers.get("x-amz-checksum-crc32")
    content, rest = bytearray(), body
    while True:
        size_line, rest = rest.split(b"\r\n", 1)
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        content += rest[:size]
        rest = rest[size + 2 :]
    trailers = dict(line.split(b":", 1) for line in rest.split(b"\r\n") if line)
    assert len(content) == int(headers["x-amz-decoded-content-length"])
    return bytes(content), trailers[b"x-amz-checksum-crc32"].decode().strip()


def crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def upload(operation: str, client: Any, bucket: str, data: bytes, workdir: Path) -> None:
    if operation == "put_object":
        client.put_object(Bucket=bucket, Key="k", Body=data)
    elif operation == "upload_part":
        upload_in_parts(client, bucket, "k", [data[: 5 * MIB], data[5 * MIB :]])
    elif operation == "upload_file":
        (workdir / "source").write_bytes(data)
        client.upload_file(str(workdir / "source"), bucket, "k", Config=PARTS)
    else:
        client.upload_fileobj(io.BytesIO(data), bucket, "k", Config=PARTS)


@pytest.mark.parametrize("operation", ["put_object", "upload_part", "upload_file", "upload_fileobj"])
def test_retries_resend_identical_ciphertext_with_its_checksum(
    http_s3c: Any, http_plain: Any, bucket: str, target: Target, operation: str, tmp_path: Path
) -> None:
    data = os.urandom(11 * MIB + 5)
    failing = FailEachRequestOnce()
    # A managed upload's requests are s3crypt's own: they go through the unhooked client.
    watched = unhooked(http_s3c) if operation in {"upload_file", "upload_fileobj"} else http_s3c
    watched.meta.events.register("before-send.s3.PutObject", failing)
    watched.meta.events.register("before-send.s3.UploadPart", failing)
    upload(operation, http_s3c, bucket, data, tmp_path)

    stored = http_plain.get_object(Bucket=bucket, Key="k")["Body"].read()
    sent_in_order = []
    for part in sorted(failing.sent, key=lambda name: int(name) if name.isdigit() else 0):
        attempts = [ciphertext_and_checksum(body, headers) for body, headers in failing.sent[part]]
        assert len(attempts) == 2, part
        assert attempts[0] == attempts[1], f"part {part} was resent with other bytes"
        ciphertext, checksum = attempts[0]
        if target.name == "moto-https":  # botocore's default over HTTPS: aws-chunked with a trailing CRC32
            headers = failing.sent[part][0][1]
            assert (headers["content-encoding"], headers["x-amz-trailer"]) == ("aws-chunked", "x-amz-checksum-crc32")
        if checksum is not None:
            assert checksum == crc32(ciphertext)
        sent_in_order.append(ciphertext)
    assert b"".join(sent_in_order) == stored
    assert len(stored) == len(data) + 16
    assert http_s3c.get_object(Bucket=bucket, Key="k")["Body"].read() == data
