"""Interop both ways with the AWS SDK for Ruby's S3 EncryptionV2 client (Debian's ruby-aws-sdk-s3), over HTTP
against moto_server: V2 objects with KMS, AES and RSA keys. Skipped where ruby or the gem is missing
(``tests/integration/ruby/install.sh`` installs them)."""

from __future__ import annotations

import base64
import functools
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import s3crypt
from tests.conftest import V2_OPTIONS

PEER = Path(__file__).parent / "ruby" / "peer.rb"
AES_KEY = os.urandom(32)


@functools.cache
def _ruby_peer_missing() -> str:
    if shutil.which("ruby") is None:
        return "ruby is not installed"
    probe = subprocess.run(
        ["ruby", "-e", 'require "aws-sdk-s3"; require "aws-sdk-kms"; Aws::S3::EncryptionV2::Client'],
        capture_output=True,
        check=False,
    )
    return "the aws-sdk-s3 gem with EncryptionV2 is not installed" if probe.returncode else ""


pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(bool(_ruby_peer_missing()), reason=_ruby_peer_missing() or "ruby peer present"),
]


@functools.cache
def _rsa_private() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem() -> str:
    return (
        _rsa_private()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )


def ruby(request: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(["ruby", str(PEER)], input=json.dumps(request).encode(), capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def setups(wrap: str, connection: dict[str, Any], kms: Any, key_id: str) -> tuple[s3crypt.Keyring, dict[str, Any]]:
    """Our keyring for ``wrap`` and the peer's key fields."""
    if wrap == "kms":
        return s3crypt.KmsKeyring(key_id, kms_client=kms), {"kms_key_id": key_id}
    if wrap == "aes":
        return s3crypt.AesKeyring(AES_KEY), {"aes_key": base64.b64encode(AES_KEY).decode()}
    return s3crypt.RsaKeyring(private_key=_rsa_private()), {"rsa_pem": _pem()}


WRAPS = ["kms", "aes", "rsa"]
SIZES = [0, 33, 1024 * 1024 + 1]


def peer_request(
    connections: tuple[dict[str, Any], dict[str, Any]], bucket: str, key: str, wrap: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """What the peer needs: S3 and KMS may be different servers (KMS stays on moto_server for every S3 target)."""
    connection, kms_connection = connections
    context = {"tenant": "acme"} if wrap == "kms" else {}
    return {
        "s3": _peer_connection(connection),
        "kms": _peer_connection(kms_connection),
        "region": connection["region_name"],
        "bucket": bucket,
        "key": key,
        "wrap": wrap,
        "context": context,
        **fields,
    }


def _peer_connection(connection: dict[str, Any]) -> dict[str, str]:
    return {
        "endpoint": connection["endpoint_url"],
        "access_key_id": connection.get("aws_access_key_id", "testing"),
        "secret_access_key": connection.get("aws_secret_access_key", "testing"),
    }


@pytest.mark.parametrize("wrap", WRAPS)
@pytest.mark.parametrize("size", SIZES)
def test_the_ruby_client_opens_ours(
    connection: dict[str, Any],
    kms_connection: dict[str, Any],
    http_kms: Any,
    http_key: str,
    bucket: str,
    wrap: str,
    size: int,
) -> None:
    keyring, fields = setups(wrap, connection, http_kms, http_key)
    ours = s3crypt.client("s3", keyring=keyring, **connection, **V2_OPTIONS)
    body = os.urandom(size)
    context = {"tenant": "acme"} if wrap == "kms" else {}
    ours.put_object(Bucket=bucket, Key="ours", Body=body, EncryptionContext=context)
    got = ruby({"op": "get", **peer_request((connection, kms_connection), bucket, "ours", wrap, fields)})
    assert base64.b64decode(got["body"]) == body


@pytest.mark.parametrize("wrap", WRAPS)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("instruction_file", [False, True], ids=["metadata", "instruction"])
def test_we_open_the_ruby_clients(
    connection: dict[str, Any],
    kms_connection: dict[str, Any],
    http_kms: Any,
    http_key: str,
    bucket: str,
    wrap: str,
    size: int,
    instruction_file: bool,
) -> None:
    keyring, fields = setups(wrap, connection, http_kms, http_key)
    body = os.urandom(size)
    request = peer_request((connection, kms_connection), bucket, "peer", wrap, fields)
    ruby({"op": "put", "body": base64.b64encode(body).decode(), "instruction_file": instruction_file, **request})
    ours = s3crypt.client("s3", keyring=keyring, **connection, **V2_OPTIONS)
    got = ours.get_object(Bucket=bucket, Key="peer", EncryptionContext=request["context"])
    assert got["Body"].read() == body
