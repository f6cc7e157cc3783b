"""Managed transfers with boto3's signatures, on the in-process moto."""

from __future__ import annotations

import gc
import io
import os
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig

import s3crypt
from s3crypt._operations.unhooked import unhooked
from tests.conftest import BUCKET
from tests.helpers import Unseekable

pytestmark = pytest.mark.front_ends  # each test runs on the sync and the asyncio client

MIB = 1024 * 1024
SMALL_PARTS = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=4)


@pytest.fixture
def source_file(tmp_path: Path) -> Path:
    path = tmp_path / "source.bin"
    path.write_bytes(os.urandom(17 * MIB + 5))
    return path


@pytest.mark.parametrize("config", [None, SMALL_PARTS], ids=["single", "multipart"])
def test_upload_file_then_download_file(
    s3c: Any, plain_s3: Any, source_file: Path, tmp_path: Path, config: TransferConfig | None
) -> None:
    progress: list[int] = []
    s3c.upload_file(
        str(source_file),
        BUCKET,
        "big",
        ExtraArgs={"EncryptionContext": {"file": "big"}, "ContentType": "application/x-test"},
        Callback=progress.append,
        Config=config,
    )
    assert sum(progress) == source_file.stat().st_size
    stored = plain_s3.head_object(Bucket=BUCKET, Key="big")
    assert stored["ContentLength"] == source_file.stat().st_size + 16
    assert stored["ContentType"] == "application/x-test"

    target = tmp_path / "out" / "copy.bin"
    target.parent.mkdir()
    s3c.download_file(BUCKET, "big", str(target), ExtraArgs={"EncryptionContext": {"file": "big"}}, Config=config)
    assert target.read_bytes() == source_file.read_bytes()
    assert os.listdir(target.parent) == ["copy.bin"]
    got = s3c.get_object(Bucket=BUCKET, Key="big", EncryptionContext={"file": "big"})
    assert got["Body"].read() == source_file.read_bytes()


@pytest.mark.parametrize("size", [0, 100, 5 * MIB, 12 * MIB + 1])
def test_upload_fileobj_of_any_stream_then_download_fileobj(s3c: Any, size: int) -> None:
    data = os.urandom(size)
    s3c.upload_fileobj(Unseekable(data), BUCKET, "stream", Config=SMALL_PARTS)
    out = io.BytesIO()
    s3c.download_fileobj(BUCKET, "stream", out, Config=SMALL_PARTS)
    assert out.getvalue() == data


def test_a_failed_download_leaves_no_file(s3c: Any, plain_s3: Any, source_file: Path, tmp_path: Path) -> None:
    s3c.upload_file(str(source_file), BUCKET, "big", Config=SMALL_PARTS)
    stored = plain_s3.get_object(Bucket=BUCKET, Key="big")
    ciphertext = bytearray(stored["Body"].read())
    ciphertext[6 * MIB] ^= 1
    plain_s3.put_object(Bucket=BUCKET, Key="tampered", Body=bytes(ciphertext), Metadata=stored["Metadata"])
    target = tmp_path / "target.bin"
    with pytest.raises(s3crypt.DecryptionError, match="authentication"):
        s3c.download_file(BUCKET, "tampered", str(target), Config=SMALL_PARTS)
    assert os.listdir(tmp_path) == ["source.bin"]
    out = io.BytesIO()
    with pytest.raises(s3crypt.DecryptionError):
        s3c.download_fileobj(BUCKET, "tampered", out, Config=SMALL_PARTS)
    assert out.getvalue() == b""


def test_a_wrong_context_fails_before_any_download(s3c: Any, source_file: Path, tmp_path: Path) -> None:
    s3c.upload_file(str(source_file), BUCKET, "big", ExtraArgs={"EncryptionContext": {"a": "1"}})
    with pytest.raises(s3crypt.DecryptionError, match="EncryptionContext"):
        s3c.download_file(BUCKET, "big", str(tmp_path / "x"), ExtraArgs={"EncryptionContext": {"a": "2"}})
    assert not (tmp_path / "x").exists()


def test_a_failed_upload_aborts_its_multipart_upload(s3c: Any, source_file: Path) -> None:
    calls = {"n": 0}

    def fail_third_part(**_: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise ConnectionError("injected")

    unhooked(s3c).meta.events.register("before-send.s3.UploadPart", fail_third_part)  # a managed upload's parts
    with pytest.raises(Exception, match="injected"):
        s3c.upload_file(str(source_file), BUCKET, "big", Config=SMALL_PARTS)
    assert s3c.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    with pytest.raises(s3c.exceptions.ClientError):
        s3c.head_object(Bucket=BUCKET, Key="big")


def test_bad_extra_args_are_refused(s3c: Any, source_file: Path) -> None:
    with pytest.raises(s3crypt.ConfigurationError, match="not allowed"):
        s3c.upload_file(str(source_file), BUCKET, "k", ExtraArgs={"Bogus": 1})
    with pytest.raises(s3crypt.ConfigurationError, match="EncryptionContext"):
        s3c.upload_file(str(source_file), BUCKET, "k", ExtraArgs={"EncryptionContext": {"aws:x": "1"}})


def test_resource_transfers_encrypt(
    plain_s3: Any, keyring: s3crypt.KmsKeyring, source_file: Path, tmp_path: Path
) -> None:
    s3 = s3crypt.resource("s3", keyring=keyring, region_name="us-east-1")
    s3.Bucket(BUCKET).upload_file(str(source_file), "via-resource", Config=SMALL_PARTS)
    assert plain_s3.head_object(Bucket=BUCKET, Key="via-resource")["ContentLength"] == source_file.stat().st_size + 16
    s3.Object(BUCKET, "via-resource").download_file(str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == source_file.read_bytes()


def test_bodies_over_the_gcm_limit_are_refused_before_anything_is_sent(
    s3c: Any, kms_calls: Any, tmp_path: Path
) -> None:
    huge = tmp_path / "sparse.bin"
    with huge.open("wb") as sparse:
        sparse.truncate(2**36)  # 64 GiB, sparse: no disk is used
    with pytest.raises(s3crypt.EncryptionError, match="at most"):
        s3c.upload_file(str(huge), BUCKET, "huge")
    with huge.open("rb") as body, pytest.raises(s3crypt.EncryptionError, match="at most"):
        s3c.put_object(Bucket=BUCKET, Key="huge", Body=body)
    assert not kms_calls
    assert s3c.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0
    assert s3c.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_abandoned_bodies_leak_no_file_descriptors(s3c: Any) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=os.urandom(3 * MIB))
    client = s3crypt.client("s3", keyring=s3c.encryption_config.keyring, decrypt_memory_limit=MIB)
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        body = client.get_object(Bucket=BUCKET, Key="k")["Body"]
        body.read(10)  # spools two thirds of the object to an anonymous file
        del body
    gc.collect()
    assert len(os.listdir("/proc/self/fd")) <= before


def test_managed_copy_of_an_encrypted_object(s3c: Any, source_file: Path) -> None:
    s3c.upload_file(str(source_file), BUCKET, "original", ExtraArgs={"EncryptionContext": {"c": "1"}})
    s3c.copy({"Bucket": BUCKET, "Key": "original"}, BUCKET, "copy", Config=SMALL_PARTS)
    got = s3c.get_object(Bucket=BUCKET, Key="copy", EncryptionContext={"c": "1"})
    assert got["Body"].read() == source_file.read_bytes()


@pytest.mark.parametrize("name", ["ChecksumSHA512", "ChecksumXXHASH64", "ChecksumMD5", "ChecksumCRC32"])
def test_plaintext_checksum_values_are_refused_everywhere(s3c: Any, source_file: Path, name: str) -> None:
    with pytest.raises(s3crypt.ConfigurationError, match="not allowed"):
        s3c.upload_file(str(source_file), BUCKET, "k", ExtraArgs={name: "AAAA"})
    with pytest.raises((s3crypt.ConfigurationError,), match="ChecksumAlgorithm"):
        s3c.put_object(Bucket=BUCKET, Key="k", Body=b"x", **{name: "AAAA"})


def test_download_file_respects_the_umask(s3c: Any, tmp_path: Path) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=b"mode")
    previous = os.umask(0o022)
    try:
        s3c.download_file(BUCKET, "k", str(tmp_path / "out"))
    finally:
        os.umask(previous)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o644


MULTIPART_CALLS = ("CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "AbortMultipartUpload")


@pytest.mark.parametrize("fails", [False, True], ids=["completed", "aborted"])
def test_a_managed_upload_is_s3crypts_own_requests(s3c: Any, source_file: Path, fails: bool) -> None:
    """Its multipart calls go through the unhooked client: the handlers registered on the encrypting client
    (s3crypt's and the user's) never see them."""
    hooked: list[str] = []
    own: list[str] = []
    for name in MULTIPART_CALLS:
        s3c.meta.events.register(f"before-call.s3.{name}", lambda model, **_: hooked.append(model.name))
        unhooked(s3c).meta.events.register(f"before-call.s3.{name}", lambda model, **_: own.append(model.name))
    if fails:
        unhooked(s3c).meta.events.register("before-send.s3.CompleteMultipartUpload", _refuse)
        with pytest.raises(ConnectionError, match="injected"):
            s3c.upload_file(str(source_file), BUCKET, "big", Config=SMALL_PARTS)
    else:
        s3c.upload_fileobj(io.BytesIO(source_file.read_bytes()), BUCKET, "big", Config=SMALL_PARTS)
    assert hooked == []
    abort = ["AbortMultipartUpload"] if fails else []
    assert own == ["CreateMultipartUpload", *["UploadPart"] * 4, "CompleteMultipartUpload", *abort]
    assert s3c.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def _refuse(**_: Any) -> None:
    raise ConnectionError("injected")


def test_a_failed_upload_stops_sending_parts(s3c: Any, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(40 * MIB))
    sent = {"n": 0}

    def fail_first_part(**_: Any) -> None:
        sent["n"] += 1
        raise ConnectionError("injected")

    unhooked(s3c).meta.events.register("before-send.s3.UploadPart", fail_first_part)  # a managed upload's parts
    one_at_a_time = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=1)
    with pytest.raises(Exception, match="injected"):
        s3c.upload_file(str(big), BUCKET, "big", Config=one_at_a_time)
    assert sent["n"] == 1  # one part at a time: the parts queued behind the failed one are never sent


def test_a_tampered_download_says_nothing_reached_the_target(s3c: Any, plain_s3: Any, tmp_path: Path) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=b"x" * 100)
    stored = plain_s3.get_object(Bucket=BUCKET, Key="k")
    body = bytearray(stored["Body"].read())
    body[0] ^= 1
    plain_s3.put_object(Bucket=BUCKET, Key="k", Body=bytes(body), Metadata=stored["Metadata"])
    with pytest.raises(s3crypt.DecryptionError, match="target left as it was"):
        s3c.download_file(BUCKET, "k", str(tmp_path / "out"))
