"""``s3crypt://`` on a moto_server: what S3 stores is ciphertext the clients open, and the filesystem reads,
lists and writes plaintext."""

from __future__ import annotations

import os
import pickle
from typing import Any

import fsspec
import pytest
from fsspec.asyn import sync

import s3crypt
from s3crypt.fsspec import EncryptedS3FileSystem, reads
from s3crypt.testing import assert_encrypted

# The filesystem is built on the session's moto_server (S3 and KMS at one endpoint), not on the --s3-target.
pytestmark = [pytest.mark.integration, pytest.mark.moto_only]


def test_the_protocol_is_registered(storage_options: dict[str, Any], bucket: str) -> None:
    fs, path = fsspec.url_to_fs(f"s3crypt://{bucket}/k", **storage_options)
    assert isinstance(fs, EncryptedS3FileSystem)
    assert isinstance(fs.s3, s3crypt.EncryptionClient)
    assert path == f"{bucket}/k"


@pytest.mark.parametrize("size", [0, 1, 1024 * 1024 + 3])
def test_pipe_then_cat(fs: EncryptedS3FileSystem, http_s3c: Any, http_plain: Any, bucket: str, size: int) -> None:
    data = os.urandom(size)
    fs.pipe(f"{bucket}/k", data)
    assert fs.cat(f"{bucket}/k") == data
    assert http_s3c.get_object(Bucket=bucket, Key="k")["Body"].read() == data
    assert_encrypted(http_plain, bucket, "k", data)


def test_open_reads_and_seeks_plaintext(fs: EncryptedS3FileSystem, http_s3c: Any, bucket: str) -> None:
    data = os.urandom(3 * 1024 * 1024 + 5)
    http_s3c.put_object(Bucket=bucket, Key="k", Body=data)
    with fs.open(f"{bucket}/k", "rb") as f:
        assert f.size == len(data)
        f.seek(-100, 2)
        assert f.read() == data[-100:]
        f.seek(7)
        assert f.read(10) == data[7:17]
    assert fs.cat_file(f"{bucket}/k", start=5, end=50) == data[5:50]


def test_reads_beyond_the_memory_limit_come_from_the_spool(
    storage_options: dict[str, Any], http_s3c: Any, bucket: str
) -> None:
    fs = EncryptedS3FileSystem(**storage_options, decrypt_memory_limit=1000, skip_instance_cache=True)
    data = os.urandom(100_000)
    http_s3c.put_object(Bucket=bucket, Key="k", Body=data)
    with fs.open(f"{bucket}/k") as f:
        f.seek(990)
        assert f.read(50_000) == data[990:50_990]
    assert fs.cat_file(f"{bucket}/k", start=3, end=99_999) == data[3:99_999]


def test_opens_of_one_object_fetch_it_once(fs: EncryptedS3FileSystem, http_s3c: Any, bucket: str) -> None:
    http_s3c.put_object(Bucket=bucket, Key="k", Body=b"abc" * 1000)
    gets: list[int] = []
    unhooked = sync(fs.loop, reads.Parts.of(fs.s3).resources.unhooked)
    unhooked.meta.events.register("before-call.s3.GetObject", lambda **_: gets.append(1))
    for _ in range(3):
        with fs.open(f"{bucket}/k") as f:
            assert f.read(3) == b"abc"
    assert len(gets) == 1


def test_a_tampered_object_releases_nothing(
    fs: EncryptedS3FileSystem, http_s3c: Any, http_plain: Any, bucket: str
) -> None:
    http_s3c.put_object(Bucket=bucket, Key="k", Body=b"secret" * 100)
    stored = http_plain.get_object(Bucket=bucket, Key="k")
    body = bytearray(stored["Body"].read())
    body[3] ^= 1
    http_plain.put_object(Bucket=bucket, Key="k", Body=bytes(body), Metadata=stored["Metadata"])
    with fs.open(f"{bucket}/k") as f, pytest.raises(s3crypt.DecryptionError, match="authentication"):
        f.read(1)


def test_listings_give_plaintext_sizes_and_hide_instruction_files(
    fs: EncryptedS3FileSystem, http_s3c: Any, bucket: str
) -> None:
    http_s3c.put_object(Bucket=bucket, Key="d/a", Body=b"x" * 100)
    http_s3c.put_object(Bucket=bucket, Key="d/b", Body=b"y" * 7, InstructionFile=True)
    listed = {entry["name"]: entry["size"] for entry in fs.ls(f"{bucket}/d", detail=True)}
    assert listed == {f"{bucket}/d/a": 100, f"{bucket}/d/b": 7}
    assert fs.find(f"{bucket}/d") == [f"{bucket}/d/a", f"{bucket}/d/b"]
    assert fs.info(f"{bucket}/d/b")["size"] == 7
    assert fs.cat(f"{bucket}/d/b") == b"y" * 7


def test_a_plaintext_object_is_refused_unless_allowed(
    storage_options: dict[str, Any], fs: EncryptedS3FileSystem, http_plain: Any, bucket: str
) -> None:
    http_plain.put_object(Bucket=bucket, Key="plain", Body=b"hello")
    with pytest.raises(s3crypt.NotEncryptedError):
        fs.open(f"{bucket}/plain")
    mixed = EncryptedS3FileSystem(**storage_options, allow_plaintext=True, skip_instance_cache=True)
    assert mixed.cat(f"{bucket}/plain") == b"hello"
    mixed.pipe(f"{bucket}/sealed", b"x" * 20)
    assert {entry["name"]: entry["size"] for entry in mixed.ls(bucket, detail=True)} == {
        f"{bucket}/plain": 5,
        f"{bucket}/sealed": 20,
    }


@pytest.mark.parametrize("size", [10, 5 * 1024 * 1024, 12 * 1024 * 1024 + 1])
def test_open_for_writing_streams_parts_in_order(
    fs: EncryptedS3FileSystem, http_s3c: Any, http_plain: Any, bucket: str, size: int
) -> None:
    data = os.urandom(size)
    with fs.open(f"{bucket}/w", "wb", block_size=5 * 1024 * 1024) as f:
        for start in range(0, size, 1024 * 1024):
            f.write(data[start : start + 1024 * 1024])
    assert http_s3c.get_object(Bucket=bucket, Key="w")["Body"].read() == data
    assert_encrypted(http_plain, bucket, "w", data)
    assert not http_plain.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_an_exception_in_the_with_block_aborts(fs: EncryptedS3FileSystem, http_plain: Any, bucket: str) -> None:
    def write_then_fail() -> None:
        with fs.open(f"{bucket}/w", "wb", block_size=5 * 1024 * 1024) as f:
            f.write(os.urandom(11 * 1024 * 1024))
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert not fs.exists(f"{bucket}/w")
    assert not http_plain.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_a_failed_part_at_close_aborts(fs: EncryptedS3FileSystem, http_plain: Any, bucket: str) -> None:
    def fail_the_last_part(params: dict[str, Any], **_: Any) -> None:
        if params["query_string"]["partNumber"] == 2:
            raise ConnectionError("link down")

    sync(fs.loop, fs.set_session)
    fs.s3.meta.events.register("before-call.s3.UploadPart", fail_the_last_part)
    f = fs.open(f"{bucket}/w", "wb", block_size=5 * 1024 * 1024)
    f.write(os.urandom(6 * 1024 * 1024))  # part 1, sent
    f.write(b"tail")  # part 2, sent by close
    with pytest.raises(ConnectionError):
        f.close()
    assert not http_plain.list_multipart_uploads(Bucket=bucket).get("Uploads")
    assert not fs.exists(f"{bucket}/w")


def test_put_get_and_rm(fs: EncryptedS3FileSystem, http_s3c: Any, http_plain: Any, bucket: str, tmp_path: Any) -> None:
    source = tmp_path / "in"
    data = os.urandom(11 * 1024 * 1024)
    source.write_bytes(data)
    fs.put_file(str(source), f"{bucket}/p", chunksize=5 * 1024 * 1024)
    assert http_s3c.get_object(Bucket=bucket, Key="p")["Body"].read() == data
    fs.get_file(f"{bucket}/p", str(tmp_path / "out"))
    assert (tmp_path / "out").read_bytes() == data
    fs.pipe(f"{bucket}/i", b"z", InstructionFile=True)
    fs.rm([f"{bucket}/p", f"{bucket}/i"])
    assert http_plain.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_the_encryption_context_applies_to_every_object(
    storage_options: dict[str, Any], http_s3c: Any, bucket: str
) -> None:
    fs = EncryptedS3FileSystem(**storage_options, encryption_context={"t": "1"}, skip_instance_cache=True)
    fs.pipe(f"{bucket}/c", b"data")
    with fs.open(f"{bucket}/c2", "wb") as f:
        f.write(b"more")
    assert fs.cat(f"{bucket}/c") == b"data"
    assert http_s3c.get_object(Bucket=bucket, Key="c2", EncryptionContext={"t": "1"})["Body"].read() == b"more"
    with pytest.raises(s3crypt.DecryptionError, match="context"):
        http_s3c.get_object(Bucket=bucket, Key="c")


def test_filesystems_pickle_with_portable_options(storage_options: dict[str, Any], bucket: str, http_kms: Any) -> None:
    cache = s3crypt.DataKeyCache(max_age_seconds=60)
    keyring = s3crypt.KmsKeyring(storage_options.pop("kms_key_id"), kms_client=http_kms)
    fs = EncryptedS3FileSystem(**storage_options, keyring=keyring, data_key_cache=cache)
    fs.pipe(f"{bucket}/k", b"payload")
    copy = pickle.loads(pickle.dumps(fs))
    assert copy.cat(f"{bucket}/k") == b"payload"
    assert copy.encryption_config.keyring.kms_client is None
    assert copy.encryption_config.data_key_cache is not cache


def test_raw_keyrings_travel_with_their_keys(storage_options: dict[str, Any], bucket: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    del storage_options["kms_key_id"]
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for keyring in (s3crypt.AesKeyring(os.urandom(32)), s3crypt.RsaKeyring(private.public_key(), private)):
        fs = EncryptedS3FileSystem(**storage_options, keyring=keyring)
        fs.pipe(f"{bucket}/raw", b"payload")
        pickled = pickle.dumps(fs)
        EncryptedS3FileSystem.clear_instance_cache()  # as in a dask worker: rebuilt from the pickle
        copy = pickle.loads(pickled)
        assert copy is not fs
        assert copy.cat(f"{bucket}/raw") == b"payload"


def test_raw_keyrings_with_alike_reprs_get_their_own_filesystems(storage_options: dict[str, Any], bucket: str) -> None:
    del storage_options["kms_key_id"]
    wrapping_key = os.urandom(32)
    first = EncryptedS3FileSystem(**storage_options, keyring=s3crypt.AesKeyring(wrapping_key))
    second = EncryptedS3FileSystem(**storage_options, keyring=s3crypt.AesKeyring(os.urandom(32)))
    same = EncryptedS3FileSystem(**storage_options, keyring=first.encryption_config.keyring)
    assert first is not second
    assert same is first
    shown = repr(first.storage_options) + repr(first) + first._fs_token
    assert all(form not in shown for form in (wrapping_key.hex(), repr(wrapping_key)[2:-1]))


def test_opt_in_ranged_reads_fetch_only_the_range(storage_options: dict[str, Any], http_s3c: Any, bucket: str) -> None:
    fs = EncryptedS3FileSystem(**storage_options, enable_ranged_get=True, skip_instance_cache=True)
    data = os.urandom(100_000)
    http_s3c.put_object(Bucket=bucket, Key="k", Body=data)
    ranges: list[str] = []
    sync(fs.loop, fs.set_session)
    fs.s3.meta.events.register(
        "before-call.s3.GetObject", lambda params, **_: ranges.append(params["headers"]["Range"])
    )
    with fs.open(f"{bucket}/k", block_size=1000) as f:
        f.seek(50_000)
        assert f.read(10) == data[50_000:50_010]
    assert ranges == ["bytes=50000-50009"]


def test_cp_and_mv_keep_objects_readable(
    fs: EncryptedS3FileSystem, http_s3c: Any, http_plain: Any, bucket: str
) -> None:
    fs.pipe(f"{bucket}/a", b"copied", InstructionFile=True)
    fs.cp(f"{bucket}/a", f"{bucket}/b")
    fs.mv(f"{bucket}/b", f"{bucket}/c")
    assert fs.cat(f"{bucket}/c") == b"copied"
    assert http_s3c.get_object(Bucket=bucket, Key="c")["Body"].read() == b"copied"
    assert sorted(o["Key"] for o in http_plain.list_objects_v2(Bucket=bucket)["Contents"]) == [
        "a",
        "a.instruction",
        "c",
        "c.instruction",
    ]


def test_the_asyncio_clients_parts_are_where_s3crypt_fsspec_reads_them(fs: EncryptedS3FileSystem) -> None:
    from s3crypt.aio.keyring import AsyncKeyring
    from s3crypt.aio.resources import Resources

    parts = reads.Parts.of(fs.s3)
    assert isinstance(parts.keyring, AsyncKeyring)
    assert isinstance(parts.resources, Resources)
    assert isinstance(parts.config, s3crypt.EncryptionConfig)


def test_a_copy_s3_would_make_in_parts_is_refused(
    fs: EncryptedS3FileSystem, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("s3crypt.fsspec.filesystem.COPY_OBJECT_LIMIT", 100)
    fs.pipe(f"{bucket}/big", os.urandom(200))
    with pytest.raises(s3crypt.ConfigurationError, match="in parts"):
        fs.cp(f"{bucket}/big", f"{bucket}/copy")
    assert not fs.exists(f"{bucket}/copy")


def test_a_legacy_cbc_object_is_sized_from_its_metadata_and_read_when_allowed(
    storage_options: dict[str, Any], http_kms: Any, http_key: str, http_plain: Any, bucket: str
) -> None:
    import base64
    import json

    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    data_key, iv, plaintext = os.urandom(32), os.urandom(16), os.urandom(1000)
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(data_key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padder.update(plaintext) + padder.finalize()) + encryptor.finalize()
    context = {"aws:x-amz-cek-alg": "AES/CBC/PKCS5Padding"}
    wrapped = http_kms.encrypt(KeyId=http_key, Plaintext=data_key, EncryptionContext=context)["CiphertextBlob"]
    stored = {
        "x-amz-key-v2": base64.b64encode(wrapped).decode(),
        "x-amz-iv": base64.b64encode(iv).decode(),
        "x-amz-cek-alg": "AES/CBC/PKCS5Padding",
        "x-amz-wrap-alg": "kms+context",
        "x-amz-matdesc": json.dumps(context),
        "x-amz-unencrypted-content-length": "1000",
    }
    http_plain.put_object(Bucket=bucket, Key="cbc", Body=ciphertext, Metadata=stored)
    legacy = {"commitment_policy": s3crypt.CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT}
    refusing = EncryptedS3FileSystem(**storage_options, **legacy, skip_instance_cache=True)
    assert refusing.info(f"{bucket}/cbc")["size"] == 1000
    with pytest.raises(s3crypt.FormatError, match="enable_legacy_unauthenticated_modes"):
        refusing.cat(f"{bucket}/cbc")
    fs = EncryptedS3FileSystem(
        **storage_options,
        **legacy,
        enable_legacy_unauthenticated_modes=True,
        decrypt_memory_limit=100,
        skip_instance_cache=True,
    )
    with fs.open(f"{bucket}/cbc") as f:
        assert f.size == 1000
        f.seek(-300, 2)
        assert f.read() == plaintext[-300:]
    assert fs.cat(f"{bucket}/cbc") == plaintext


def test_pipe_in_create_mode_keeps_an_existing_object(fs: EncryptedS3FileSystem, bucket: str) -> None:
    fs.pipe(f"{bucket}/once", b"first", mode="create")
    with pytest.raises(OSError, match="pre-conditions"):  # FileExistsError on AWS, which names the condition
        fs.pipe(f"{bucket}/once", b"second", mode="create")
    assert fs.cat(f"{bucket}/once") == b"first"
