"""With botocore at DEBUG, no plaintext data key reaches the logs (KMS responses and Encrypt requests)."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

import s3crypt
from s3crypt._redaction import REDACTED
from s3crypt.testing import TEST_REGION
from tests.conftest import BUCKET

UNREDACTED = re.compile(r"""["']Plaintext["']\s*:\s*b?["'](?!<redacted)""")


def test_kms_plaintext_fields_are_redacted(
    plain_s3: Any, keyring: s3crypt.KmsKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    client = s3crypt.client("s3", keyring=keyring, region_name=TEST_REGION)
    with caplog.at_level(logging.DEBUG):
        client.put_object(Bucket=BUCKET, Key="k", Body=b"the plaintext body")
        assert client.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"the plaintext body"
        client.rewrap_object(Bucket=BUCKET, Key="k", new_keyring=keyring)  # sends KMS Encrypt with a plaintext key
    assert caplog.text.count(REDACTED) >= 3
    assert not UNREDACTED.search(caplog.text)
    assert "the plaintext body" not in caplog.text
