"""Shared fixtures: an in-process mocked AWS (moto) with a bucket and a KMS key, and clients bound to it; a
moto_server over real HTTP on 127.0.0.1 (started once, when a test first asks for it); and the S3 server of the
integration tests (``--s3-target``, tests/targets.py: moto_server by default), with clients bound to it."""

from __future__ import annotations

import collections
import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

import s3crypt
from s3crypt.testing import TEST_CREDENTIALS, TEST_REGION, moto_server
from tests import targets
from tests.front_ends import FRONT_ENDS, asyncio_client

BUCKET = "s3crypt-test-bucket"
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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--s3-target",
        choices=targets.NAMES,
        help=f"the S3 server of the tests marked integration (default: ${targets.ENVIRONMENT_VARIABLE} or moto); "
        "see tests/targets.py and docs/testing.md",
    )


def pytest_configure(config: pytest.Config) -> None:
    name = targets.chosen(config)
    missing = targets.missing_settings(name)
    if missing:
        raise pytest.UsageError(f"the {name} S3 target needs {', '.join(missing)} (see docs/testing.md)")
    if name == "aws" and getattr(config.option, "numprocesses", None):
        raise pytest.UsageError("the aws target shares one bucket, emptied after each test: run it without -n")


def pytest_report_header(config: pytest.Config) -> str:
    return f"s3 target: {targets.chosen(config)}"


@pytest.hookimpl(trylast=True)  # after the hooks that add moto_only (tests/reliability/conftest.py)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    name = targets.chosen(config)
    if name == targets.DEFAULT:
        return
    skip = pytest.mark.skip(reason=f"needs moto's own controls; the S3 target is {name}")
    for item in items:
        if item.get_closest_marker("moto_only"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    """The session's moto_server over HTTP: KMS for every target but aws, and S3 for the moto target."""
    with moto_server() as url:
        yield url


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[targets.Target]:
    """The S3 server of the integration tests (``--s3-target``)."""
    name = targets.chosen(request.config)
    if name == "moto":
        yield targets.moto(request.getfixturevalue("endpoint"))
    elif name == "moto-https":
        certificate, key = targets.make_certificate(tmp_path_factory.mktemp("tls"))
        with moto_server(tls=(certificate, key)) as url:
            yield targets.moto(url, ca_bundle=certificate)
    elif name == "aws":
        chosen = targets.aws()
        _refuse_a_bucket_in_use(boto3.client("s3", **chosen.s3), str(chosen.bucket))
        yield chosen
    else:
        yield targets.rgw(https=name == "rgw-https")


@pytest.fixture
def connection(target: targets.Target) -> dict[str, Any]:
    """Keyword arguments that point a boto3 S3 client at the S3 target."""
    return dict(target.s3)


@pytest.fixture
def kms_connection(target: targets.Target, request: pytest.FixtureRequest) -> dict[str, Any]:
    """Keyword arguments that point a boto3 KMS client at the target's KMS (the session's moto_server but on aws)."""
    if target.kms is not None:
        return dict(target.kms)
    return {"endpoint_url": request.getfixturevalue("endpoint"), "region_name": TEST_REGION, **TEST_CREDENTIALS}


@pytest.fixture
def http_kms(kms_connection: dict[str, Any]) -> Any:
    return boto3.client("kms", **kms_connection)


@pytest.fixture
def http_key(target: targets.Target, http_kms: Any) -> str:
    if target.kms_key_id is not None:
        return target.kms_key_id
    key_id: str = http_kms.create_key()["KeyMetadata"]["KeyId"]
    return key_id


@pytest.fixture
def http_plain(connection: dict[str, Any]) -> Any:
    return boto3.client("s3", **connection)


@pytest.fixture
def bucket(target: targets.Target, http_plain: Any) -> Iterator[str]:
    """An empty bucket of the target, emptied after the test (and deleted, unless it is aws's one bucket)."""
    name = target.bucket or f"s3crypt-{uuid.uuid4().hex[:20]}"
    if target.bucket is None:
        http_plain.create_bucket(Bucket=name)
    yield name
    _empty(http_plain, name)
    if target.bucket is None:
        http_plain.delete_bucket(Bucket=name)


@pytest.fixture
def http_s3c(connection: dict[str, Any], http_kms: Any, http_key: str, bucket: str) -> Any:
    return s3crypt.client("s3", keyring=s3crypt.KmsKeyring(http_key, kms_client=http_kms), **connection)


def _empty(client: Any, bucket: str) -> None:
    """Abort the bucket's multipart uploads and delete its objects (not versions: the test buckets have none)."""
    for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for upload in page.get("Uploads", []):
            client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])


def _refuse_a_bucket_in_use(client: Any, bucket: str) -> None:
    if client.list_objects_v2(Bucket=bucket, MaxKeys=1).get("KeyCount", 0):
        pytest.exit(f"S3CRYPT_TEST_BUCKET={bucket} is not empty: the tests delete everything in it", returncode=4)
