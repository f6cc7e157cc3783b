"""Fixtures of the asyncio client: encrypting aiobotocore clients on the suite's moto_server, whose KMS client
s3crypt creates itself (``AWS_ENDPOINT_URL_KMS`` points it at the moto_server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

import s3crypt.aio


@pytest.fixture
def kms_endpoint(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", endpoint)
    return endpoint


@pytest_asyncio.fixture
async def aio_s3c(connection: dict[str, Any], kms_endpoint: str, http_key: str, bucket: str) -> AsyncIterator[Any]:
    """An asyncio s3crypt client writing V3, whose KMS keyring calls KMS through aiobotocore."""
    async with s3crypt.aio.Session().create_client("s3", kms_key_id=http_key, **connection) as client:
        yield client


@pytest_asyncio.fixture
async def aio_plain(connection: dict[str, Any]) -> AsyncIterator[Any]:
    """A plain aiobotocore S3 client of the same moto_server."""
    async with s3crypt.aio.Session().aiobotocore_session.create_client("s3", **connection) as client:
        yield client
