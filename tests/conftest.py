"""Shared fixtures: an in-process mocked AWS (moto) with a bucket and a KMS key, and clients bound to it."""

from __future__ import annotations

import collections
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

import s3crypt
from s3crypt.testing import TEST_REGION

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


@pytest.fixture
def s3c(plain_s3: Any, keyring: s3crypt.KmsKeyring) -> Any:
    """An s3crypt client writing V3 (the default)."""
    return s3crypt.client("s3", keyring=keyring, region_name=TEST_REGION)


@pytest.fixture
def s3c_v2(plain_s3: Any, keyring: s3crypt.KmsKeyring) -> Any:
    """An s3crypt client writing V2."""
    return s3crypt.client("s3", keyring=keyring, region_name=TEST_REGION, **V2_OPTIONS)
