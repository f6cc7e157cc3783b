"""The S3 servers the integration tests run against, picked by ``--s3-target`` or ``S3CRYPT_TEST_S3``.

- ``moto`` (default): the session's ``moto_server`` over plain HTTP.
- ``moto-https``: a second ``moto_server`` over HTTPS (a certificate made for the run), with botocore's default
  checksums: uploads go ``aws-chunked`` with a trailing CRC32, as they do to AWS.
- ``rgw`` / ``rgw-https``: a Ceph RADOS Gateway (``../shared/tools/rgw/start-rgw.sh``) named by the variables
  its ``env`` file exports (``S3_ENDPOINT``, ``S3_ENDPOINT_HTTPS``, ``S3_CA_BUNDLE``, ``S3_ACCESS_KEY``,
  ``S3_SECRET_KEY``). Over HTTPS botocore must not send ``aws-chunked`` bodies, which this RGW refuses (411).
- ``aws``: Amazon S3 and KMS themselves, with ``S3CRYPT_TEST_BUCKET``, ``S3CRYPT_TEST_KMS_KEY_ID``, the region
  (``S3CRYPT_TEST_REGION`` or boto3's) and the credentials of boto3's usual chain.

KMS is the session's ``moto_server`` for every target but ``aws``.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from s3crypt.testing import TEST_CREDENTIALS, TEST_REGION

NAMES = ("moto", "moto-https", "rgw", "rgw-https", "aws")
DEFAULT = "moto"
ENVIRONMENT_VARIABLE = "S3CRYPT_TEST_S3"


@dataclasses.dataclass(frozen=True)
class Target:
    """Where the integration tests send S3 requests, and KMS ones when not to the session's moto_server."""

    name: str
    s3: dict[str, Any]
    """Keyword arguments of ``boto3.client("s3", ...)``."""
    kms: dict[str, Any] | None = None
    """Keyword arguments of ``boto3.client("kms", ...)``; ``None``: the session's moto_server."""
    kms_key_id: str | None = None
    """A KMS key to use; ``None``: each test creates its own in moto."""
    bucket: str | None = None
    """The one bucket to use, emptied after each test; ``None``: each test creates its own."""
    sse_kms_key_id: str | None = None
    """A key for S3's own SSE-KMS (``SSEKMSKeyId``); ``None``: the test's KMS key."""

    @property
    def is_moto(self) -> bool:
        return self.name.startswith("moto")

    @property
    def enforces_sse_c(self) -> bool:
        """moto stores SSE-C objects without checking the key on reads."""
        return not self.is_moto

    @property
    def copies_sse_c(self) -> bool:
        """RGW 16.2 answers NotImplemented to every copy of an SSE-C object (plain boto3 too)."""
        return not self.name.startswith("rgw")

    @property
    def accepts_aws_chunked(self) -> bool:
        """RGW 16.2 over HTTPS answers 411 to aws-chunked bodies, which an explicit ChecksumAlgorithm makes."""
        return self.name != "rgw-https"

    @property
    def ca_bundle(self) -> str | None:
        verify = self.s3.get("verify")
        return verify if isinstance(verify, str) else None


_RGW = ("S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY")
REQUIRED = {
    "rgw": _RGW,
    "rgw-https": (*_RGW, "S3_ENDPOINT_HTTPS", "S3_CA_BUNDLE"),
    "aws": ("S3CRYPT_TEST_BUCKET", "S3CRYPT_TEST_KMS_KEY_ID"),
}
"""The environment variables each target needs (rgw's are in the env file start-rgw.sh writes)."""


def missing_settings(name: str) -> list[str]:
    return [variable for variable in REQUIRED.get(name, ()) if not os.environ.get(variable)]


def chosen(config: pytest.Config) -> str:
    name: str = config.getoption("s3_target") or os.environ.get(ENVIRONMENT_VARIABLE) or DEFAULT
    if name not in NAMES:
        raise pytest.UsageError(f"{ENVIRONMENT_VARIABLE}/--s3-target must be one of {', '.join(NAMES)}, not {name!r}")
    return name


def moto(endpoint: str, ca_bundle: str | None = None) -> Target:
    name = "moto-https" if ca_bundle else "moto"
    verify = {"verify": ca_bundle} if ca_bundle else {}
    return Target(name, {"endpoint_url": endpoint, "region_name": TEST_REGION, **TEST_CREDENTIALS, **verify})


def rgw(https: bool) -> Target:
    connection: dict[str, Any] = {
        "endpoint_url": os.environ["S3_ENDPOINT_HTTPS" if https else "S3_ENDPOINT"],
        "region_name": os.environ.get("S3_REGION", TEST_REGION),
        "aws_access_key_id": os.environ["S3_ACCESS_KEY"],
        "aws_secret_access_key": os.environ["S3_SECRET_KEY"],
    }
    if https:
        connection["verify"] = os.environ["S3_CA_BUNDLE"]
        # RGW 16.2 answers 411 to aws-chunked bodies, which botocore sends over HTTPS to compute a checksum.
        connection["config"] = Config(request_checksum_calculation="when_required")
    return Target("rgw-https" if https else "rgw", connection, sse_kms_key_id=os.environ.get("S3_KMS_KEY_ID"))


def aws() -> Target:
    """Real S3 and KMS, with the credentials boto3 finds now, before the tests' fixtures hide them."""
    session = boto3.Session(region_name=os.environ.get("S3CRYPT_TEST_REGION"))
    credentials = session.get_credentials()
    if credentials is None or session.region_name is None:
        raise pytest.UsageError("the aws target needs AWS credentials and a region (S3CRYPT_TEST_REGION or boto3's)")
    frozen = credentials.get_frozen_credentials()
    connection = {
        "region_name": session.region_name,
        "aws_access_key_id": frozen.access_key,
        "aws_secret_access_key": frozen.secret_key,
        "aws_session_token": frozen.token,
    }
    return Target(
        "aws",
        connection,
        kms=connection,
        kms_key_id=os.environ["S3CRYPT_TEST_KMS_KEY_ID"],
        bucket=os.environ["S3CRYPT_TEST_BUCKET"],
    )


def make_certificate(directory: Path) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1, and its key: the files ``(certificate, key)``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_file, key_file = directory / "moto.crt", directory / "moto.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(certificate_file), str(key_file)
