"""Copies of encrypted objects keep them readable: copy_object, client.copy and Bucket.copy, single and multipart."""

from __future__ import annotations

import os
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

import s3crypt
from s3crypt._operations.unhooked import unhooked
from s3crypt.testing import TEST_REGION
from tests.conftest import BUCKET

pytestmark = pytest.mark.front_ends  # each test runs on the sync and the asyncio client

MIB = 1024 * 1024
BODY = os.urandom(5 * MIB + 1)
SINGLE = TransferConfig(multipart_threshold=64 * MIB)
PARTS = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=2)
METHODS = ["copy_object", "copy", "copy-multipart", "Bucket.copy-multipart"]


def copy_with(method: str, client: Any, source: str, key: str, **args: Any) -> None:
    source_ref = {"Bucket": BUCKET, "Key": source}
    if method == "copy_object":
        client.copy_object(CopySource=source_ref, Bucket=BUCKET, Key=key, **args)
    elif method == "copy":
        client.copy(source_ref, BUCKET, key, ExtraArgs=args, Config=SINGLE)
    elif method == "copy-multipart":
        client.copy(source_ref, BUCKET, key, ExtraArgs=args, Config=PARTS)
    else:
        config = client.encryption_config
        options = {"bind_object_location": config.bind_object_location, "region_name": TEST_REGION}
        resource = s3crypt.resource("s3", keyring=config.keyring, **options)
        resource.Bucket(BUCKET).copy(source_ref, key, ExtraArgs=args, Config=PARTS)


@pytest.fixture
def uploads_sent(s3c: Any) -> list[str]:
    names: list[str] = []  # a copy's parts are s3crypt's own requests: they go through the unhooked client
    unhooked(s3c).meta.events.register("before-call.s3.UploadPartCopy", lambda **_: names.append("part"))
    return names


@pytest.mark.parametrize("method", METHODS)
def test_replacing_the_metadata_keeps_the_envelope(s3c: Any, plain_s3: Any, method: str) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=BODY, Metadata={"old": "1"}, EncryptionContext={"c": "1"})
    target = "k" if method == "copy_object" else "other"  # boto3's idiom: change the content type in place
    copy_with(method, s3c, "k", target, MetadataDirective="REPLACE", ContentType="text/csv", Metadata={"new": "2"})
    got = s3c.get_object(Bucket=BUCKET, Key=target, EncryptionContext={"c": "1"})
    assert got["Body"].read() == BODY
    assert (got["ContentType"], got["Metadata"]["new"], "old" in got["Metadata"]) == ("text/csv", "2", False)


@pytest.mark.parametrize("method", METHODS)
def test_a_copy_keeps_what_describes_the_object(s3c: Any, method: str) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=BODY, Metadata={"owner": "o"}, ContentType="text/x", Tagging="t=1")
    copy_with(method, s3c, "k", "copied")
    got = s3c.get_object(Bucket=BUCKET, Key="copied")
    assert got["Body"].read() == BODY
    assert (got["Metadata"]["owner"], got["ContentType"]) == ("o", "text/x")
    assert s3c.get_object_tagging(Bucket=BUCKET, Key="copied")["TagSet"] == [{"Key": "t", "Value": "1"}]


def test_managed_copies_above_the_threshold_go_in_parts(s3c: Any, uploads_sent: list[str]) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=BODY)
    copy_with("copy-multipart", s3c, "k", "copied")
    assert len(uploads_sent) == 2


@pytest.mark.parametrize("method", METHODS)
def test_reserved_metadata_keys_are_refused(s3c: Any, method: str) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=BODY)
    with pytest.raises(s3crypt.ConfigurationError, match="reserved for the encryption envelope"):
        copy_with(method, s3c, "k", "copied", MetadataDirective="REPLACE", Metadata={"x-amz-c": "115"})
    with pytest.raises(ClientError, match="404"):
        s3c.head_object(Bucket=BUCKET, Key="copied")


@pytest.mark.parametrize("method", METHODS)
def test_replaced_metadata_over_s3s_limit_is_refused(s3c: Any, method: str) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=BODY)
    with pytest.raises(s3crypt.ConfigurationError, match="over S3's limit"):
        copy_with(method, s3c, "k", "copied", MetadataDirective="REPLACE", Metadata={"big": "x" * 2000})


@pytest.mark.parametrize("method", METHODS)
def test_an_instruction_file_goes_with_the_copy(s3c: Any, plain_s3: Any, method: str) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=BODY, InstructionFile=True)
    copy_with(method, s3c, "k", "copied", MetadataDirective="REPLACE", Metadata={"new": "1"})
    s3c.delete_object(Bucket=BUCKET, Key="k")  # and the source's instruction file
    assert s3c.get_object(Bucket=BUCKET, Key="copied")["Body"].read() == BODY
    assert plain_s3.head_object(Bucket=BUCKET, Key="copied.instruction")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("directive", ["COPY", "REPLACE"])
@pytest.mark.parametrize("instruction_file", [False, True], ids=["metadata", "instruction"])
def test_a_bound_object_is_bound_to_its_new_location(
    plain_s3: Any, keyring: s3crypt.KmsKeyring, method: str, directive: str, instruction_file: bool
) -> None:
    bound = s3crypt.client("s3", keyring=keyring, region_name=TEST_REGION, bind_object_location=True)
    context = {"t": "1"}
    bound.put_object(Bucket=BUCKET, Key="k", Body=BODY, EncryptionContext=context, InstructionFile=instruction_file)
    copy_with(method, bound, "k", "moved", MetadataDirective=directive, EncryptionContext=context)
    assert bound.get_object(Bucket=BUCKET, Key="moved", EncryptionContext=context)["Body"].read() == BODY
    assert bound.get_object(Bucket=BUCKET, Key="k", EncryptionContext=context)["Body"].read() == BODY


@pytest.mark.parametrize("method", METHODS)
def test_a_plain_object_is_copied_as_boto3_copies_it(s3c: Any, plain_s3: Any, method: str) -> None:
    plain_s3.put_object(Bucket=BUCKET, Key="k", Body=BODY, Metadata={"owner": "o"})
    copy_with(method, s3c, "k", "copied")
    got = plain_s3.get_object(Bucket=BUCKET, Key="copied")
    assert (got["Body"].read(), got["Metadata"]) == (BODY, {"owner": "o"})


def test_a_copy_takes_an_encryption_context_only_to_rebind(s3c: Any) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    with pytest.raises(s3crypt.ConfigurationError, match="bind_object_location"):
        s3c.copy({"Bucket": BUCKET, "Key": "k"}, BUCKET, "c", ExtraArgs={"EncryptionContext": {"a": "b"}})


@pytest.mark.parametrize("method", METHODS)
def test_tags_are_replaced_when_asked(s3c: Any, method: str) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=BODY, Tagging="old=1")
    copy_with(method, s3c, "k", "copied", TaggingDirective="REPLACE", Tagging="new=2")
    assert s3c.get_object_tagging(Bucket=BUCKET, Key="copied")["TagSet"] == [{"Key": "new", "Value": "2"}]
    assert s3c.get_object(Bucket=BUCKET, Key="copied")["Body"].read() == BODY


@pytest.mark.parametrize("config", [SINGLE, PARTS], ids=["single", "multipart"])
def test_the_callback_sees_every_byte_copied(s3c: Any, plain_s3: Any, config: TransferConfig) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=BODY)
    seen: list[int] = []
    s3c.copy({"Bucket": BUCKET, "Key": "k"}, BUCKET, "copied", Callback=seen.append, Config=config)
    assert sum(seen) == plain_s3.head_object(Bucket=BUCKET, Key="copied")["ContentLength"] == len(BODY) + 16


def test_s3s_own_error_for_a_missing_source_reaches_the_caller(s3c: Any, plain_s3: Any) -> None:
    missing = {"Bucket": BUCKET, "Key": "missing"}
    for client in (s3c, plain_s3):
        with pytest.raises(client.exceptions.NoSuchKey):
            client.copy_object(CopySource=missing, Bucket=BUCKET, Key="copied")
