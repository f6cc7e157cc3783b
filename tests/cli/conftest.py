"""Fixtures of the in-process CLI tests: the mocked bucket as an s3:// URL, a second KMS key, one shared loader."""

from __future__ import annotations

from typing import Any

import botocore.loaders
import botocore.session
import pytest

from tests.conftest import BUCKET

_LOADER = botocore.loaders.create_loader()


@pytest.fixture(autouse=True)
def _shared_service_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every CLI run builds a new boto3 session, which would parse the service models again (0.2 s each run).

    Share one loader between them, as the sessions of one long-lived process could.
    """
    monkeypatch.setattr(botocore.session, "create_loader", lambda *_, **__: _LOADER)


@pytest.fixture
def s3(plain_s3: Any, kms_key: str) -> str:
    """``s3://BUCKET`` in the mocked AWS, with ``plain_s3`` and ``kms_key`` set up."""
    return f"s3://{BUCKET}"


@pytest.fixture
def other_key(kms: Any) -> str:
    key_id: str = kms.create_key(Description="another key")["KeyMetadata"]["KeyId"]
    return key_id
