"""The golden vectors: each stored object opens with s3crypt, and s3crypt's writer reproduces it byte for byte."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

import s3crypt
from s3crypt._crypto.content import content_cipher
from s3crypt._crypto.streams import EncryptingStream, GcmMessage
from s3crypt._format import instruction, metadata
from s3crypt.testing import TEST_REGION
from tests.vectors.kms import KEY_ID, fixed_kms_key

VECTORS = sorted(Path(__file__).parent.glob("*.json"))
JSON_VALUES = {"x-amz-t", "x-amz-m", "x-amz-matdesc"}


def load(path: Path) -> dict[str, Any]:
    vector: dict[str, Any] = json.loads(path.read_text())
    return vector


@pytest.fixture
def kms() -> Iterator[Any]:
    with mock_aws(), fixed_kms_key() as client:
        yield client


def keyring_for(vector: dict[str, Any], kms: Any) -> s3crypt.Keyring:
    key = vector["key"]
    if key["type"] == "kms":
        return s3crypt.KmsKeyring(KEY_ID, kms_client=kms)
    if key["type"] == "aes":
        return s3crypt.AesKeyring(base64.b64decode(key["key"]), key.get("material_description"))
    return s3crypt.RsaKeyring(private_key=key["private_pem"].encode())


def test_the_set_covers_every_suite_keyring_and_strategy() -> None:
    names = {path.stem for path in VECTORS}
    for keyring in ("kms", "aes", "rsa"):
        for version in ("v2", "v3"):
            for strategy in ("metadata", "instruction"):
                assert any(name.startswith(f"{keyring}-{version}-{strategy}") for name in names)
    assert {"kms-v3-metadata-context", "kms-v2-metadata-context"} <= names  # written by the official client
    assert len([name for name in names if name.startswith("legacy-")]) == 4


@pytest.mark.parametrize("path", VECTORS, ids=[path.stem for path in VECTORS])
def test_vector_decrypts(path: Path, kms: Any) -> None:
    vector = load(path)
    s3 = boto3.client("s3", region_name=TEST_REGION)
    s3.create_bucket(Bucket="vectors")
    s3.put_object(Bucket="vectors", Key="object", Body=base64.b64decode(vector["body"]), Metadata=vector["metadata"])
    if vector["instruction_file"] is not None:
        s3.put_object(Bucket="vectors", Key="object.instruction", Body=json.dumps(vector["instruction_file"]))
    legacy = vector.get("legacy", False)
    client = s3crypt.client(
        "s3",
        keyring=keyring_for(vector, kms),
        region_name=TEST_REGION,
        commitment_policy=s3crypt.CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT,
        enable_legacy_unauthenticated_modes=legacy,
        enable_legacy_wrapping_algorithms=legacy,
    )
    got = client.get_object(Bucket="vectors", Key="object", EncryptionContext=vector["encryption_context"])
    assert got["Body"].read() == base64.b64decode(vector["plaintext"])


@pytest.mark.parametrize("path", [p for p in VECTORS if not p.stem.startswith("legacy-")], ids=lambda p: p.stem)
def test_our_writer_reproduces_the_vector_for_its_key_iv_and_message_id(path: Path, kms: Any) -> None:
    vector = load(path)
    entries = dict(vector["metadata"])
    if vector["instruction_file"] is not None:
        entries = instruction.merge(entries, json.dumps(vector["instruction_file"]).encode(), "object.instruction")
    envelope = metadata.decode(entries)
    data_key = keyring_for(vector, kms).decrypt_data_key(
        envelope.data_key, envelope.suite, vector["encryption_context"]
    )
    plaintext = base64.b64decode(vector["plaintext"])

    message = GcmMessage(content_cipher(envelope.suite, data_key, envelope.iv), len(plaintext))
    assert EncryptingStream(io.BytesIO(plaintext), len(plaintext), message).read() == base64.b64decode(vector["body"])
    written = metadata.encode(envelope)
    assert written.keys() == entries.keys()
    for key, value in entries.items():
        expected = json.loads(value) if key in JSON_VALUES else value
        assert (json.loads(written[key]) if key in JSON_VALUES else written[key]) == expected, key
