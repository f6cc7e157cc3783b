"""Fixtures of ``s3crypt://``: filesystems on the suite's moto_server, whose KMS client s3crypt creates
(``AWS_ENDPOINT_URL_KMS`` points it at the moto_server)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("s3fs")

from s3crypt.fsspec import EncryptedS3FileSystem
from s3crypt.testing import TEST_REGION


@pytest.fixture
def storage_options(endpoint: str, http_key: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What a user passes as ``storage_options``: s3fs's connection options and the KMS key."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", endpoint)
    return {
        "endpoint_url": endpoint,
        "key": "testing",
        "secret": "testing",
        "client_kwargs": {"region_name": TEST_REGION},
        "kms_key_id": http_key,
    }


@pytest.fixture
def fs(storage_options: dict[str, Any], bucket: str) -> Iterator[EncryptedS3FileSystem]:
    filesystem = EncryptedS3FileSystem(**storage_options, skip_instance_cache=True)
    yield filesystem
    EncryptedS3FileSystem.clear_instance_cache()
