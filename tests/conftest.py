"""Shared fixtures: an in-process mocked AWS (moto) with a bucket and a KMS key, and clients bound to it; and a
moto_server over real HTTP on 127.0.0.1 (started once, when a test first asks for it) with clients bound to it."""

from __future__ import annotations

import collections
import contextlib
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

import s3crypt
from s3crypt.testing import TEST_CREDENTIALS, TEST_REGION, moto_server
from tests.front_ends import FRONT_ENDS, asyncio_client

BUCKET = "s3crypt-test-bucket"
_bucket_names = (f"integration-{i}" for i in itertools.count())
V2_OPTIONS: dict[str, Any] = {
    "algorithm_suite": s3crypt.AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF,
    "commitment_policy": s3crypt.CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
}


@pytest.fixture(autouse=True)
def _aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", TEST_REGION)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_KMS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def kms(aws: None) -> Any:
    return boto3.client("kms", region_name=TEST_REGION)


@pytest.fixture
def kms_key(kms: Any) -> str:
    key_id: str = kms.create_key(Description="s3crypt tests")["KeyMetadata"]["KeyId"]
    return key_id


@pytest.fixture
def plain_s3(aws: None) -> Any:
    client = boto3.client("s3", region_name=TEST_REGION)
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def kms_calls(kms: Any) -> collections.Counter[str]:
    """Counts the KMS operations made through the ``kms`` client."""
    calls: collections.Counter[str] = collections.Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    kms.meta.events.register("before-call.kms", count)
    return calls


@pytest.fixture
def keyring(kms: Any, kms_key: str) -> s3crypt.KmsKeyring:
    return s3crypt.KmsKeyring(kms_key, kms_client=kms)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the tests of a module marked ``front_ends`` on the sync and the asyncio client."""
    if metafunc.definition.get_closest_marker("front_ends") and "front_end" in metafunc.fixturenames:
        sync_only = metafunc.definition.get_closest_marker("sync_only")
        metafunc.parametrize("front_end", FRONT_ENDS[:1] if sync_only else FRONT_ENDS, indirect=True)


@pytest.fixture
def front_end(request: pytest.FixtureRequest) -> str:
    """Which client ``s3c`` and ``s3c_v2`` are: the sync one, unless the module is marked ``front_ends``."""
    return getattr(request, "param", "sync")


def _client(front_end: str, **options: Any) -> Iterator[Any]:
    if front_end == "sync":
        yield s3crypt.client("s3", region_name=TEST_REGION, **options)
        return
    pytest.importorskip("aiobotocore")
    with asyncio_client(**options) as client:
        yield client


@pytest.fixture
def make_client(aws: None, front_end: str) -> Iterator[Callable[..., Any]]:
    """Makes s3crypt clients of the test's front end with the given options (closed after the test)."""
    with contextlib.ExitStack() as stack:
        yield lambda **options: stack.enter_context(contextlib.contextmanager(_client)(front_end, **options))


@pytest.fixture
def s3c(plain_s3: Any, keyring: s3crypt.KmsKeyring, front_end: str) -> Iterator[Any]:
    """An s3crypt client writing V3 (the default)."""
    yield from _client(front_end, keyring=keyring)


@pytest.fixture
def s3c_v2(plain_s3: Any, keyring: s3crypt.KmsKeyring, front_end: str) -> Iterator[Any]:
    """An s3crypt client writing V2."""
    yield from _client(front_end, keyring=keyring, **V2_OPTIONS)


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def connection(endpoint: str) -> dict[str, Any]:
    """Keyword arguments that point a boto3 client at the moto_server."""
    return {"endpoint_url": endpoint, "region_name": TEST_REGION, **TEST_CREDENTIALS}


@pytest.fixture
def http_kms(connection: dict[str, Any]) -> Any:
    return boto3.client("kms", **connection)


@pytest.fixture
def http_key(http_kms: Any) -> str:
    key_id: str = http_kms.create_key()["KeyMetadata"]["KeyId"]
    return key_id


@pytest.fixture
def http_plain(connection: dict[str, Any]) -> Any:
    return boto3.client("s3", **connection)


@pytest.fixture
def bucket(http_plain: Any) -> str:
    name = next(_bucket_names)
    http_plain.create_bucket(Bucket=name)
    return name


@pytest.fixture
def http_s3c(connection: dict[str, Any], http_kms: Any, http_key: str, bucket: str) -> Any:
    return s3crypt.client("s3", keyring=s3crypt.KmsKeyring(http_key, kms_client=http_kms), **connection)
