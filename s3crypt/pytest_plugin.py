"""pytest fixtures for moto-based tests of code that uses s3crypt; pytest loads them by itself.

The plugin is registered under the name ``s3crypt`` (``-p no:s3crypt`` turns it off). Every fixture name
starts with ``s3crypt_``, and nothing happens unless a test asks for one:

- ``s3crypt_aws``: AWS mocked in-process by ``moto.mock_aws``, with dummy credentials and region
  ``us-east-1`` in the environment; profiles, config files and endpoint URLs of the machine are hidden, so no
  call can reach real AWS.
- ``s3crypt_kms_client``: a ``boto3`` KMS client of the mocked AWS.
- ``s3crypt_kms_key``: the id of a new KMS key.
- ``s3crypt_bucket``: the name of a new, empty bucket (``s3crypt-test-bucket``).
- ``s3crypt_client``: an s3crypt S3 client writing V3, with a :class:`~s3crypt.KmsKeyring` of that key.
- ``s3crypt_raw_client``: a plain ``boto3`` S3 client, to look at the bytes and metadata S3 stores.
- ``s3crypt_assert_encrypted``: :func:`s3crypt.testing.assert_encrypted`.
- ``s3crypt_aio_client``: the asyncio counterpart of ``s3crypt_client`` (needs ``s3crypt[aio]``), to enter in
  the test: ``async with s3crypt_aio_client as s3:``. aiobotocore cannot reach the in-process mock, so it talks
  to a moto server in the test's process that shares the mock's state (``s3crypt_moto_endpoint``): the raw
  client, the bucket and the key are the same.

pytest and moto are imported here, never by :mod:`s3crypt.testing`; moto only when a test uses the fixtures.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client

    from s3crypt._format.metadata import Envelope

BUCKET = "s3crypt-test-bucket"
_HIDDEN_ENVIRONMENT = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_KMS",
    "AWS_ENDPOINT_URL_STS",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
)


@pytest.fixture
def s3crypt_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """AWS mocked by moto for the duration of the test, with dummy credentials and region in the environment."""
    try:
        from moto import mock_aws
    except ImportError:
        pytest.fail('the s3crypt_* fixtures need moto: pip install "moto[s3,kms]"', pytrace=False)
    from s3crypt.testing import TEST_CREDENTIALS, TEST_REGION

    for name in _HIDDEN_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEST_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", TEST_REGION)
    monkeypatch.setenv("AWS_REGION", TEST_REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)  # no profile, endpoint or credential process of this machine
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    with mock_aws():  # also gives boto3 a fresh default session, which reads the environment above
        yield


@pytest.fixture
def s3crypt_kms_client(s3crypt_aws: None) -> KMSClient:
    """A boto3 KMS client of the mocked AWS."""
    import boto3

    return boto3.client("kms")


@pytest.fixture
def s3crypt_kms_key(s3crypt_kms_client: KMSClient) -> str:
    """The id of a new symmetric KMS key in the mocked AWS."""
    return s3crypt_kms_client.create_key(Description="s3crypt tests")["KeyMetadata"]["KeyId"]


@pytest.fixture
def s3crypt_raw_client(s3crypt_aws: None) -> S3Client:
    """A plain boto3 S3 client of the mocked AWS: it shows objects exactly as S3 stores them."""
    import boto3

    return boto3.client("s3")


@pytest.fixture
def s3crypt_bucket(s3crypt_raw_client: S3Client) -> str:
    """The name of a new, empty bucket in the mocked AWS."""
    s3crypt_raw_client.create_bucket(Bucket=BUCKET)
    return BUCKET


@pytest.fixture
def s3crypt_client(s3crypt_kms_client: KMSClient, s3crypt_kms_key: str, s3crypt_bucket: str) -> Any:
    """An s3crypt S3 client of the mocked AWS, writing V3, with a ``KmsKeyring`` of ``s3crypt_kms_key``."""
    import s3crypt

    return s3crypt.client("s3", keyring=s3crypt.KmsKeyring(s3crypt_kms_key, kms_client=s3crypt_kms_client))


@pytest.fixture
def s3crypt_moto_endpoint(s3crypt_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The URL of a moto server in this process sharing the mocked AWS (for clients that cannot be mocked
    in-process, such as aiobotocore's); KMS clients s3crypt creates are pointed at it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", url)
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def s3crypt_aio_client(s3crypt_moto_endpoint: str, s3crypt_kms_key: str, s3crypt_bucket: str) -> Any:
    """An un-entered asyncio s3crypt client of the mocked AWS, writing V3 with a ``KmsKeyring`` of
    ``s3crypt_kms_key``; ``async with s3crypt_aio_client as s3:`` in the test."""
    try:
        import s3crypt.aio
    except ImportError:
        pytest.fail('s3crypt_aio_client needs aiobotocore: pip install "s3crypt[aio]"', pytrace=False)
    return s3crypt.aio.create_client("s3", kms_key_id=s3crypt_kms_key, endpoint_url=s3crypt_moto_endpoint)


@pytest.fixture
def s3crypt_assert_encrypted() -> Callable[..., Envelope]:
    """:func:`s3crypt.testing.assert_encrypted`: ``(raw_client, bucket, key, plaintext=None)``."""
    from s3crypt.testing import assert_encrypted

    return assert_encrypted
