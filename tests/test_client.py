"""The factory and the drop-in behaviours: everything unrelated to encryption is plain boto3."""

from __future__ import annotations

import concurrent.futures
import urllib.parse
from typing import Any

import boto3
import botocore.client
import pytest
from botocore.exceptions import ClientError

import s3crypt
from s3crypt.testing import TEST_REGION
from tests.conftest import BUCKET


def test_client_is_botocores_s3_class_with_the_mixin(s3c: Any, plain_s3: Any) -> None:
    assert isinstance(s3c, botocore.client.BaseClient)
    assert isinstance(s3c, s3crypt.EncryptionClient)
    assert type(s3c).__name__ == type(plain_s3).__name__ == "S3"
    assert not isinstance(plain_s3, s3crypt.EncryptionClient)
    assert not isinstance(boto3.client("s3", region_name=TEST_REGION), s3crypt.EncryptionClient)


def test_plain_clients_of_the_same_session_stay_plain(plain_s3: Any, keyring: s3crypt.KmsKeyring) -> None:
    session = boto3.Session(region_name=TEST_REGION)
    encrypting = s3crypt.Session(session).client("s3", keyring=keyring)
    plain = session.client("s3")
    assert isinstance(encrypting, s3crypt.EncryptionClient)
    assert not isinstance(plain, s3crypt.EncryptionClient)
    plain.put_object(Bucket=BUCKET, Key="p", Body=b"plain")
    assert plain.get_object(Bucket=BUCKET, Key="p")["Body"].read() == b"plain"


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("kms",), {"kms_key_id": "k"}, "S3 objects only"),
        (("s3",), {}, "exactly one of"),
        (("s3",), {"kms_key_id": "k", "keyring": s3crypt.KmsKeyring("k")}, "exactly one of"),
        (("s3",), {"keyring": "not a keyring"}, "must be an s3crypt.Keyring"),
        (("s3",), {"kms_key_id": "k", "algorithm_suite": "V3"}, "algorithm_suite must be"),
        (("s3",), {"kms_key_id": "k", "commitment_policy": "strict"}, "commitment_policy must be"),
        (("s3",), {"kms_key_id": "k", "decrypt_memory_limit": -1}, "decrypt_memory_limit"),
        (
            ("s3",),
            {"kms_key_id": "k", "algorithm_suite": s3crypt.AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF},
            "FORBID_ENCRYPT_ALLOW_DECRYPT",
        ),
        (
            ("s3",),
            {"kms_key_id": "k", "commitment_policy": s3crypt.CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT},
            "contradicts",
        ),
        (("s3",), {"kms_key_id": "k", "algorithm_suite": s3crypt.AlgorithmSuite.ALG_AES_256_CBC_IV16_NO_KDF}, "legacy"),
    ],
)
def test_bad_options_are_configuration_errors(args: tuple[str], kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(s3crypt.ConfigurationError, match=message):
        s3crypt.client(*args, region_name=TEST_REGION, **kwargs)


def test_kms_key_id_shorthand_builds_a_kms_client_in_the_s3_clients_region(plain_s3: Any, kms_key: str) -> None:
    client = s3crypt.client("s3", kms_key_id=kms_key, region_name=TEST_REGION)
    assert repr(client.encryption_config.keyring) == f"KmsKeyring(key_id={kms_key!r})"
    assert client.encryption_config.keyring.kms_client is None  # the config keeps the keyring it was given
    keyring = client._s3crypt_keyring.inner  # the one the client uses: bound to a KMS client, and metered
    assert isinstance(keyring, s3crypt.KmsKeyring)
    assert keyring.kms_client is not None
    assert keyring.kms_client.meta.region_name == TEST_REGION
    client.put_object(Bucket=BUCKET, Key="k", Body=b"shorthand")
    assert client.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"shorthand"


def test_listing_paginators_waiters_and_head(s3c: Any) -> None:
    for i in range(5):
        s3c.put_object(Bucket=BUCKET, Key=f"dir/{i}", Body=b"x" * i)
    assert [o["Key"] for o in s3c.list_objects_v2(Bucket=BUCKET)["Contents"]] == [f"dir/{i}" for i in range(5)]
    pages = list(s3c.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, PaginationConfig={"PageSize": 2}))
    assert len(pages) == 3
    s3c.get_waiter("object_exists").wait(Bucket=BUCKET, Key="dir/3")
    assert s3c.head_object(Bucket=BUCKET, Key="dir/3")["ContentLength"] == 3 + 16


def test_s3_errors_reach_the_caller_unwrapped(s3c: Any) -> None:
    with pytest.raises(s3c.exceptions.NoSuchKey):
        s3c.get_object(Bucket=BUCKET, Key="missing")
    with pytest.raises(s3c.exceptions.NoSuchBucket):
        s3c.put_object(Bucket="no-such-bucket-here", Key="k", Body=b"x")
    with pytest.raises(ClientError) as caught:
        s3c.head_object(Bucket=BUCKET, Key="missing")
    assert not isinstance(caught.value, s3crypt.S3CryptError)


def test_conditional_get_not_modified_is_s3s_error(s3c: Any) -> None:
    etag = s3c.put_object(Bucket=BUCKET, Key="k", Body=b"x")["ETag"]
    with pytest.raises(ClientError, match="304"):
        s3c.get_object(Bucket=BUCKET, Key="k", IfNoneMatch=etag)


def test_copied_object_keeps_its_envelope_and_decrypts(s3c: Any) -> None:
    s3c.put_object(Bucket=BUCKET, Key="src", Body=b"copy me", EncryptionContext={"a": "1"})
    s3c.copy_object(Bucket=BUCKET, Key="dst", CopySource={"Bucket": BUCKET, "Key": "src"})
    got = s3c.get_object(Bucket=BUCKET, Key="dst", EncryptionContext={"a": "1"})
    assert got["Body"].read() == b"copy me"


def test_presigned_urls_are_boto3s(s3c: Any, plain_s3: Any) -> None:
    url = s3c.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "k"}, ExpiresIn=60)
    expected = plain_s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "k"}, ExpiresIn=60)
    url_parts, expected_parts = urllib.parse.urlsplit(url), urllib.parse.urlsplit(expected)
    assert url_parts.path == expected_parts.path
    assert urllib.parse.parse_qs(url_parts.query).keys() == urllib.parse.parse_qs(expected_parts.query).keys()


def test_resource_objects_encrypt(plain_s3: Any, keyring: s3crypt.KmsKeyring) -> None:
    s3 = s3crypt.resource("s3", keyring=keyring, region_name=TEST_REGION)
    assert isinstance(s3.meta.client, s3crypt.EncryptionClient)
    s3.Object(BUCKET, "r").put(Body=b"through a resource", EncryptionContext={"r": "1"})
    assert b"through a resource" not in plain_s3.get_object(Bucket=BUCKET, Key="r")["Body"].read()
    got = s3.Object(BUCKET, "r").get(EncryptionContext={"r": "1"})
    assert got["Body"].read() == b"through a resource"
    assert [o.key for o in s3.Bucket(BUCKET).objects.all()] == ["r"]


def test_keyrings_and_configs_never_show_keys(s3c: Any) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    config = s3c.encryption_config
    data_key = config.keyring.generate_data_key(config.algorithm_suite, {})
    assert data_key.plaintext.hex() not in repr(data_key)
    assert repr(data_key.plaintext) not in repr(data_key)
    assert "KmsKeyring(key_id=" in repr(config)


def test_one_client_shared_by_eight_threads(s3c: Any) -> None:
    def round_trips(worker: int) -> None:
        for i in range(25):
            body = f"worker {worker} object {i}".encode() * (i + 1)
            context = {"worker": str(worker)}
            s3c.put_object(Bucket=BUCKET, Key=f"t/{worker}/{i}", Body=body, EncryptionContext=context)
            got = s3c.get_object(Bucket=BUCKET, Key=f"t/{worker}/{i}", EncryptionContext=context)
            assert got["Body"].read() == body

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for future in [pool.submit(round_trips, worker) for worker in range(8)]:
            future.result()
