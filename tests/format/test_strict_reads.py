"""Reads are strict where the specification is: V3 instruction files, and options that contradict each other."""

from __future__ import annotations

import json

import pytest

import s3crypt
from s3crypt._config import EncryptionConfig
from s3crypt._errors import FormatError
from s3crypt._format import instruction

OBJECT_METADATA = {"x-amz-c": "115", "x-amz-d": "ZA==", "x-amz-i": "aQ=="}
FILE = {"x-amz-3": "a2V5", "x-amz-w": "02", "x-amz-m": "{}"}


@pytest.mark.parametrize("key", ["x-amz-c", "x-amz-d", "x-amz-i"])
def test_a_v3_instruction_file_may_not_hold_what_stays_with_the_object(key: str) -> None:
    """metadata-strategy.md: x-amz-c, x-amz-d and x-amz-i MUST NOT be stored in the instruction file."""
    body = json.dumps({**FILE, key: OBJECT_METADATA[key]}).encode()  # even agreeing with the object's value
    with pytest.raises(FormatError, match="object's metadata only"):
        instruction.merge(OBJECT_METADATA, body, "k.instruction")


def test_a_v3_instruction_file_of_its_own_keys_merges() -> None:
    assert instruction.merge(OBJECT_METADATA, json.dumps(FILE).encode(), "k.instruction") == {
        **OBJECT_METADATA,
        **FILE,
    }


def test_a_memory_limit_beside_delayed_authentication_is_a_configuration_error() -> None:
    keyring = s3crypt.KmsKeyring("k")
    EncryptionConfig(keyring, enable_delayed_authentication=True)
    EncryptionConfig(keyring, decrypt_memory_limit=1024)
    with pytest.raises(s3crypt.ConfigurationError, match="delayed authentication"):
        EncryptionConfig(keyring, enable_delayed_authentication=True, decrypt_memory_limit=32 * 1024 * 1024)
    with pytest.raises(s3crypt.ConfigurationError, match="delayed authentication"):
        s3crypt.client("s3", kms_key_id="k", enable_delayed_authentication=True, decrypt_memory_limit=0)
