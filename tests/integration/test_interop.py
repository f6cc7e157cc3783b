"""Interop both ways with the official AWS S3 Encryption Client for Python (a test-only peer)."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest
from s3_encryption import S3EncryptionClient, S3EncryptionClientConfig
from s3_encryption.materials.kms_keyring import KmsKeyring as PeerKmsKeyring
from s3_encryption.materials.materials import AlgorithmSuite as PeerSuite
from s3_encryption.materials.materials import CommitmentPolicy as PeerPolicy

import s3crypt
from tests.conftest import V2_OPTIONS

pytestmark = pytest.mark.integration

FORMATS = {
    "v3": ({}, {}),
    "v2": (
        V2_OPTIONS,
        {
            "encryption_algorithm": PeerSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF,
            "commitment_policy": PeerPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
        },
    ),
}
CONTEXTS = [None, {"tenant": "acme", "purpose": "interop"}]


def clients(version: str, connection: dict[str, Any], kms: Any, key_id: str) -> tuple[Any, Any]:
    ours_options, peer_options = FORMATS[version]
    ours = s3crypt.client("s3", keyring=s3crypt.KmsKeyring(key_id, kms_client=kms), **connection, **ours_options)
    peer_config = S3EncryptionClientConfig(keyring=PeerKmsKeyring(kms, key_id), **peer_options)
    return ours, S3EncryptionClient(boto3.client("s3", **connection), peer_config)


def context_kwargs(context: dict[str, str] | None) -> dict[str, Any]:
    return {} if context is None else {"EncryptionContext": context}


@pytest.mark.parametrize("version", FORMATS)
@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("size", [0, 33, 1024 * 1024 + 1])
def test_peer_opens_ours(
    connection: dict[str, Any], http_kms: Any, http_key: str, bucket: str, version: str, context: Any, size: int
) -> None:
    ours, peer = clients(version, connection, http_kms, http_key)
    body = os.urandom(size)
    ours.put_object(Bucket=bucket, Key="ours", Body=body, **context_kwargs(context))
    assert peer.get_object(Bucket=bucket, Key="ours", **context_kwargs(context))["Body"].read() == body


@pytest.mark.parametrize("version", FORMATS)
@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("size", [0, 33, 1024 * 1024 + 1])
def test_we_open_the_peers(
    connection: dict[str, Any], http_kms: Any, http_key: str, bucket: str, version: str, context: Any, size: int
) -> None:
    ours, peer = clients(version, connection, http_kms, http_key)
    body = os.urandom(size)
    peer.put_object(Bucket=bucket, Key="peer", Body=body, **context_kwargs(context))
    assert ours.get_object(Bucket=bucket, Key="peer", **context_kwargs(context))["Body"].read() == body


def test_peer_refuses_our_object_under_a_wrong_context(
    connection: dict[str, Any], http_kms: Any, http_key: str, bucket: str
) -> None:
    ours, peer = clients("v3", connection, http_kms, http_key)
    ours.put_object(Bucket=bucket, Key="k", Body=b"x", EncryptionContext={"a": "1"})
    with pytest.raises(Exception, match=r"(?i)context"):
        peer.get_object(Bucket=bucket, Key="k", EncryptionContext={"a": "2"})["Body"].read()


@pytest.mark.parametrize("version", FORMATS)
def test_peer_opens_our_instruction_file_objects(
    connection: dict[str, Any], http_kms: Any, http_key: str, bucket: str, version: str
) -> None:
    ours, peer = clients(version, connection, http_kms, http_key)
    ours.put_object(Bucket=bucket, Key="k", Body=b"kept apart", EncryptionContext={"a": "1"}, InstructionFile=True)
    assert peer.get_object(Bucket=bucket, Key="k", EncryptionContext={"a": "1"})["Body"].read() == b"kept apart"


def test_peer_opens_every_object_written_under_a_cached_key(
    connection: dict[str, Any], http_kms: Any, http_key: str, bucket: str
) -> None:
    cached = s3crypt.client(
        "s3",
        keyring=s3crypt.KmsKeyring(http_key, kms_client=http_kms),
        data_key_cache=s3crypt.DataKeyCache(),
        **connection,
    )
    _, peer = clients("v3", connection, http_kms, http_key)
    bodies = {f"cached/{i}": os.urandom(100 + i) for i in range(20)}
    for key, body in bodies.items():
        cached.put_object(Bucket=bucket, Key=key, Body=body, EncryptionContext={"batch": "1"})
    assert cached.encryption_stats.kms_calls == 1
    for key, body in bodies.items():
        assert peer.get_object(Bucket=bucket, Key=key, EncryptionContext={"batch": "1"})["Body"].read() == body
