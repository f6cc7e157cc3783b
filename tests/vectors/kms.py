"""A moto KMS key with a fixed id and key material, so stored KMS-wrapped vectors open in any later session."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import boto3

from s3crypt.testing import TEST_REGION

KEY_ID = "0b6fbf41-9c5f-4c8a-9d0a-5e3b1f2a7c11"
KEY_MATERIAL = base64.b64decode("q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k=")


@contextmanager
def fixed_kms_key() -> Iterator[Any]:
    """Inside ``mock_aws``: a KMS client with the vectors' key created (moto itself, seeded)."""
    with (
        mock.patch("moto.kms.models.generate_key_id", return_value=KEY_ID),
        mock.patch("moto.kms.models.generate_master_key", return_value=KEY_MATERIAL),
    ):
        kms = boto3.client("kms", region_name=TEST_REGION)
        kms.create_key(Description="s3crypt test vectors")
    yield kms
