"""S3's 2 KB limit on user-defined metadata counts the envelope: over it, nothing is sent (moto does not enforce
the limit, so without s3crypt's check these uploads would succeed here and fail on S3)."""

from __future__ import annotations

import collections
from typing import Any

import pytest
from botocore.exceptions import ClientError

import s3crypt
from s3crypt._core.limits import USER_METADATA_LIMIT, envelope_floor, metadata_size
from tests.conftest import BUCKET

SUITE = s3crypt.AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY


def padding(size: int) -> dict[str, str]:
    """Metadata of exactly ``size`` bytes as S3 counts them (the key's bytes count too)."""
    return {"pad": "x" * (size - 3)}


def assert_nothing_stored(client: Any) -> None:
    with pytest.raises(ClientError, match="404"):
        client.head_object(Bucket=BUCKET, Key="k")


def test_metadata_over_the_limit_with_the_envelope_is_refused_before_kms(
    s3c: Any, kms_calls: collections.Counter[str]
) -> None:
    # fits beside the entries that stay with an instruction file, not beside the whole envelope
    caller = padding(USER_METADATA_LIMIT - metadata_size(envelope_floor(SUITE, {}, 1, instruction_file=True)))
    with pytest.raises(s3crypt.ConfigurationError, match=r"at least .* over S3's limit of 2048.*InstructionFile=True"):
        s3c.put_object(Bucket=BUCKET, Key="k", Body=b"x", Metadata=caller)
    assert kms_calls["GenerateDataKey"] == 0
    assert_nothing_stored(s3c)
    s3c.put_object(Bucket=BUCKET, Key="k", Body=b"x", Metadata=caller, InstructionFile=True)
    assert s3c.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"x"


def test_a_large_encryption_context_is_refused_before_kms(s3c: Any, kms_calls: collections.Counter[str]) -> None:
    context = {f"key{i}": "v" * 100 for i in range(18)}
    with pytest.raises(s3crypt.ConfigurationError, match="InstructionFile=True"):
        s3c.create_multipart_upload(Bucket=BUCKET, Key="k", EncryptionContext=context)
    assert kms_calls["GenerateDataKey"] == 0
    assert s3c.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_the_wrapped_key_counts_once_known(s3c: Any, kms_calls: collections.Counter[str]) -> None:
    floor = metadata_size(envelope_floor(SUITE, {}, 1, instruction_file=False))
    caller = padding(USER_METADATA_LIMIT - floor)  # fits beside the floor, not beside the wrapped key
    with pytest.raises(s3crypt.ConfigurationError, match=r"would be 2\d\d\d bytes .*over S3's limit"):
        s3c.put_object(Bucket=BUCKET, Key="k", Body=b"x", Metadata=caller)
    assert kms_calls["GenerateDataKey"] == 1
    assert_nothing_stored(s3c)


def test_metadata_within_the_limit_is_stored(s3c: Any) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=b"x", Metadata=padding(1000))
    stored = s3c.head_object(Bucket=BUCKET, Key="k")["Metadata"]
    assert USER_METADATA_LIMIT - 1000 > metadata_size(stored) - 1000 > 0
