"""Instruction files: written on request, read whenever the object's metadata lacks its wrapped key, deleted."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

import s3crypt
from s3crypt._operations.unhooked import unhooked
from s3crypt.testing import TEST_CREDENTIALS, TEST_REGION
from tests.conftest import BUCKET
from tests.helpers import send_parts_and_complete

pytestmark = pytest.mark.front_ends  # each test runs on the sync and the asyncio client

MIB = 1024 * 1024
V3_OBJECT_KEYS = {"x-amz-c", "x-amz-d", "x-amz-i"}
V3_FILE_KEYS = {"x-amz-3", "x-amz-w", "x-amz-t"}
V2_FILE_KEYS = {"x-amz-key-v2", "x-amz-iv", "x-amz-cek-alg", "x-amz-wrap-alg", "x-amz-matdesc", "x-amz-tag-len"}


def instruction_file(plain_s3: Any, key: str) -> tuple[dict[str, Any], dict[str, str]]:
    response = plain_s3.get_object(Bucket=BUCKET, Key=key)
    return json.loads(response["Body"].read()), response["Metadata"]


@pytest.mark.parametrize("version", ["v3", "v2"])
def test_the_split_of_each_format(request: pytest.FixtureRequest, plain_s3: Any, version: str) -> None:
    client = request.getfixturevalue("s3c" if version == "v3" else "s3c_v2")
    client.put_object(Bucket=BUCKET, Key="k", Body=b"secret", EncryptionContext={"a": "1"}, InstructionFile=True)
    stored = set(plain_s3.head_object(Bucket=BUCKET, Key="k")["Metadata"])
    entries, marker = instruction_file(plain_s3, "k.instruction")
    if version == "v3":
        assert (stored, set(entries)) == (V3_OBJECT_KEYS, V3_FILE_KEYS)
    else:
        assert (stored, set(entries)) == ({"x-amz-unencrypted-content-length"}, V2_FILE_KEYS)
    assert marker == {"x-amz-crypto-instr-file": ""}
    assert client.get_object(Bucket=BUCKET, Key="k", EncryptionContext={"a": "1"})["Body"].read() == b"secret"


def test_client_option_and_per_call_override(plain_s3: Any, keyring: s3crypt.KmsKeyring) -> None:
    client = s3crypt.client("s3", keyring=keyring, region_name=TEST_REGION, instruction_file=True)
    client.put_object(Bucket=BUCKET, Key="a", Body=b"a")
    client.put_object(Bucket=BUCKET, Key="b", Body=b"b", InstructionFile=False)
    keys = {o["Key"] for o in plain_s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {"a", "a.instruction", "b"}
    with pytest.raises(s3crypt.ConfigurationError, match="InstructionFile must be"):
        client.put_object(Bucket=BUCKET, Key="c", Body=b"c", InstructionFile="yes")


def test_multipart_and_transfers_write_instruction_files(s3c: Any, plain_s3: Any, tmp_path: Path) -> None:
    parts = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(11 * MIB))
    for key, config in (("small", None), ("multi", parts)):
        s3c.upload_file(str(source), BUCKET, key, ExtraArgs={"InstructionFile": True}, Config=config)
        assert set(plain_s3.head_object(Bucket=BUCKET, Key=key)["Metadata"]) == V3_OBJECT_KEYS
        target = tmp_path / f"{key}.out"
        s3c.download_file(BUCKET, key, str(target), Config=config)
        assert target.read_bytes() == source.read_bytes()
    upload_id = s3c.create_multipart_upload(Bucket=BUCKET, Key="low", InstructionFile=True)["UploadId"]
    send_parts_and_complete(s3c, BUCKET, "low", upload_id, [b"x"])
    assert set(instruction_file(plain_s3, "low.instruction")[0]) == V3_FILE_KEYS
    assert s3c.get_object(Bucket=BUCKET, Key="low")["Body"].read() == b"x"


def test_another_suffix_on_read(s3c: Any, plain_s3: Any) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=b"moved", InstructionFile=True)
    plain_s3.copy_object(Bucket=BUCKET, Key="k.rotated", CopySource={"Bucket": BUCKET, "Key": "k.instruction"})
    plain_s3.delete_object(Bucket=BUCKET, Key="k.instruction")
    with pytest.raises(s3crypt.FormatError, match="does not exist"):
        s3c.get_object(Bucket=BUCKET, Key="k")
    assert s3c.get_object(Bucket=BUCKET, Key="k", InstructionFileSuffix=".rotated")["Body"].read() == b"moved"


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (lambda e: {**e, "owner": "x"}, s3crypt.FormatError, "not crypto metadata"),
        (lambda e: {**e, "x-amz-c": "114"}, s3crypt.FormatError, "contradicts"),
        (lambda e: {k: v for k, v in e.items() if k != "x-amz-w"}, s3crypt.FormatError, "lacks x-amz-w"),
        (lambda e: {**e, "x-amz-t": '{"aws:x-amz-cek-alg":"115","a":"2"}'}, s3crypt.DecryptionError, "context"),
    ],
)
def test_tampered_instruction_files(s3c: Any, plain_s3: Any, change: Any, error: type, message: str) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=b"secret", EncryptionContext={"a": "1"}, InstructionFile=True)
    entries, _ = instruction_file(plain_s3, "k.instruction")
    plain_s3.put_object(Bucket=BUCKET, Key="k.instruction", Body=json.dumps(change(entries)).encode())
    with pytest.raises(error, match=message):
        s3c.get_object(Bucket=BUCKET, Key="k", EncryptionContext={"a": "1"})


def test_deletes_take_the_instruction_files_along(s3c: Any, plain_s3: Any, keyring: s3crypt.KmsKeyring) -> None:
    for key in ("a", "b", "c"):
        s3c.put_object(Bucket=BUCKET, Key=key, Body=b"x", InstructionFile=True)
    s3c.delete_object(Bucket=BUCKET, Key="a")
    s3c.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "b"}]})
    keeper = s3crypt.client("s3", keyring=keyring, region_name=TEST_REGION, delete_instruction_files=False)
    keeper.delete_object(Bucket=BUCKET, Key="c")
    assert [o["Key"] for o in plain_s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["c.instruction"]


def test_v2_instruction_file_object(s3c_v2: Any, plain_s3: Any) -> None:
    s3c_v2.put_object(Bucket=BUCKET, Key="k", Body=b"v2 with a file", InstructionFile=True)
    plain_s3.delete_object(Bucket=BUCKET, Key="k.instruction")
    with pytest.raises(s3crypt.FormatError, match="does not exist"):
        s3c_v2.get_object(Bucket=BUCKET, Key="k")


def test_plain_objects_without_instruction_files_are_not_encrypted(s3c: Any, plain_s3: Any) -> None:
    plain_s3.put_object(Bucket=BUCKET, Key="plain", Body=b"plain")
    with pytest.raises(s3crypt.NotEncryptedError):
        s3c.get_object(Bucket=BUCKET, Key="plain")


def test_quiet_deletes_take_instruction_files_and_version_deletes_keep_them(s3c: Any, plain_s3: Any) -> None:
    for key in ("q1", "q2"):
        s3c.put_object(Bucket=BUCKET, Key=key, Body=b"x", InstructionFile=True)
    s3c.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "q1"}, {"Key": "q2"}], "Quiet": True})
    assert plain_s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0

    plain_s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    old = s3c.put_object(Bucket=BUCKET, Key="v", Body=b"old", InstructionFile=True)["VersionId"]
    s3c.put_object(Bucket=BUCKET, Key="v", Body=b"new", InstructionFile=True)
    s3c.delete_object(Bucket=BUCKET, Key="v", VersionId=old)
    assert s3c.get_object(Bucket=BUCKET, Key="v")["Body"].read() == b"new"


def test_the_users_handlers_see_their_own_calls_only(s3c: Any) -> None:
    seen: list[tuple[str, str]] = []
    s3c.meta.events.register("before-call.s3", lambda model, params, **_: seen.append((model.name, params["url_path"])))
    s3c.put_object(Bucket=BUCKET, Key="k", Body=b"secret", InstructionFile=True)
    s3c.get_object(Bucket=BUCKET, Key="k")["Body"].read()
    s3c.delete_object(Bucket=BUCKET, Key="k")
    assert [name for name, _ in seen] == ["PutObject", "GetObject", "DeleteObject"]
    assert all(not path.endswith(".instruction") for _, path in seen)


def test_s3crypts_own_requests_share_the_clients_options(keyring: s3crypt.KmsKeyring) -> None:
    config = Config(retries={"max_attempts": 7}, s3={"addressing_style": "path"})
    client = s3crypt.client("s3", keyring=keyring, region_name="eu-west-3", config=config, **TEST_CREDENTIALS)
    own = unhooked(client)
    assert own is unhooked(client)  # created once, then kept
    assert not isinstance(own, s3crypt.EncryptionClient)
    assert (own.meta.region_name, own.meta.endpoint_url) == ("eu-west-3", client.meta.endpoint_url)
    assert own.meta.config.retries == client.meta.config.retries
    assert own.meta.config.s3 == client.meta.config.s3
    assert own._request_signer._credentials.access_key == TEST_CREDENTIALS["aws_access_key_id"]
