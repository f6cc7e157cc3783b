"""s3crypt against the independent reference codec, both ways, through moto: V3 and V2, AES and RSA keys."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

import s3crypt
from s3crypt.testing import TEST_REGION
from tests.conftest import BUCKET, V2_OPTIONS
from tests.reference import codec

AES_KEY = os.urandom(32)
RSA_PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEYS: dict[str, tuple[codec.Key, s3crypt.Keyring]] = {
    "aes": (codec.AesKey(AES_KEY), s3crypt.AesKeyring(AES_KEY, {"who": "reference"})),
    "rsa": (codec.RsaKey(RSA_PRIVATE), s3crypt.RsaKeyring(private_key=RSA_PRIVATE, material_description={})),
}
VERSIONS = {3: {}, 2: V2_OPTIONS}
SIZES = [0, 1, 1024 * 1024 + 17]


def ours(keyring: s3crypt.Keyring, version: int, **options: Any) -> Any:
    return s3crypt.client("s3", keyring=keyring, region_name=TEST_REGION, **VERSIONS[version], **options)


@pytest.mark.parametrize("kind", KEYS)
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("size", SIZES)
def test_we_open_what_the_reference_writes(plain_s3: Any, kind: str, version: int, size: int) -> None:
    key, keyring = KEYS[kind]
    body = os.urandom(size)
    metadata, ciphertext = codec.encrypt(body, key, version, {"who": "reference"})
    plain_s3.put_object(Bucket=BUCKET, Key="ref", Body=ciphertext, Metadata=metadata)
    got = ours(keyring, version).get_object(Bucket=BUCKET, Key="ref")
    assert got["Body"].read() == body


@pytest.mark.parametrize("kind", KEYS)
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("size", SIZES)
def test_the_reference_opens_what_we_write(plain_s3: Any, kind: str, version: int, size: int) -> None:
    key, keyring = KEYS[kind]
    body = os.urandom(size)
    ours(keyring, version).put_object(Bucket=BUCKET, Key="ours", Body=body)
    stored = plain_s3.get_object(Bucket=BUCKET, Key="ours")
    assert codec.decrypt(stored["Metadata"], stored["Body"].read(), key) == body


@pytest.mark.parametrize("kind", KEYS)
def test_a_ranged_read_of_a_reference_v3_object_unwraps_through_the_ctr_path(plain_s3: Any, kind: str) -> None:
    key, keyring = KEYS[kind]
    body = os.urandom(5000)
    metadata, ciphertext = codec.encrypt(body, key, 3)
    plain_s3.put_object(Bucket=BUCKET, Key="ref", Body=ciphertext, Metadata=metadata)
    got = ours(keyring, 3, enable_ranged_get=True).get_object(Bucket=BUCKET, Key="ref", Range="bytes=100-4099")
    assert got["Body"].read() == body[100:4100]


@pytest.mark.parametrize("kind", KEYS)
def test_the_reference_opens_our_v3_instruction_file_objects(plain_s3: Any, kind: str) -> None:
    key, keyring = KEYS[kind]
    ours(keyring, 3).put_object(Bucket=BUCKET, Key="ours", Body=b"kept apart", InstructionFile=True)
    stored = plain_s3.get_object(Bucket=BUCKET, Key="ours")
    in_file = json.loads(plain_s3.get_object(Bucket=BUCKET, Key="ours.instruction")["Body"].read())
    assert not in_file.keys() & {"x-amz-c", "x-amz-d", "x-amz-i"}  # metadata-strategy.md: object metadata only
    assert codec.decrypt({**stored["Metadata"], **in_file}, stored["Body"].read(), key) == b"kept apart"


@pytest.mark.parametrize("version", VERSIONS)
def test_the_reference_opens_an_object_we_rewrapped_from_kms_to_aes(
    plain_s3: Any, keyring: s3crypt.KmsKeyring, version: int
) -> None:
    key, aes_keyring = KEYS["aes"]
    writer = ours(keyring, version)
    writer.put_object(Bucket=BUCKET, Key="rotated", Body=b"rotated")
    writer.rewrap_object(Bucket=BUCKET, Key="rotated", new_keyring=aes_keyring)
    stored = plain_s3.get_object(Bucket=BUCKET, Key="rotated")
    assert codec.decrypt(stored["Metadata"], stored["Body"].read(), key) == b"rotated"


def test_the_binding_is_what_java_v4_uses() -> None:
    """Pinned from AesKeyring.java / RsaKeyring.java: ``idAsString()`` for suite 115, ``cipherName()`` for V2."""
    assert codec.binding(3) == b"115"
    assert codec.binding(2) == b"AES/GCM/NoPadding"
