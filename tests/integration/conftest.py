"""A moto_server over real HTTP on 127.0.0.1, shared by the integration tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

import s3crypt
from s3crypt.testing import TEST_CREDENTIALS, TEST_REGION, moto_server

_bucket_names = (f"integration-{i}" for i in itertools.count())


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
