"""No path skips a check the keyring makes: a warm data-key cache, a relabelled legacy wrapping, reserved keys."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import pytest
from botocore.config import Config
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import s3crypt
from s3crypt.testing import TEST_REGION
from tests.conftest import BUCKET, V2_OPTIONS

AES_KEY = os.urandom(32)


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def cbc_body(data_key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(data_key), modes.CBC(iv)).encryptor()
    return encryptor.update(padder.update(plaintext) + padder.finalize()) + encryptor.finalize()


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_a_v3_wrapped_key_moved_into_a_forged_v2_cbc_object_is_refused_cold_and_warm(plain_s3: Any, warm: bool) -> None:
    cache = s3crypt.DataKeyCache()
    reader = s3crypt.client(
        "s3",
        keyring=s3crypt.AesKeyring(AES_KEY),
        region_name=TEST_REGION,
        data_key_cache=cache,
        commitment_policy=s3crypt.CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT,
        enable_legacy_unauthenticated_modes=True,
        enable_legacy_wrapping_algorithms=True,
    )
    reader.put_object(Bucket=BUCKET, Key="v3", Body=b"genuine")
    stored = plain_s3.head_object(Bucket=BUCKET, Key="v3")["Metadata"]
    wrapped = base64.b64decode(stored["x-amz-3"])
    data_key = AESGCM(AES_KEY).decrypt(wrapped[:12], wrapped[12:], b"115")  # what only the key holder can do
    iv = os.urandom(16)
    forged = {
        "x-amz-key-v2": stored["x-amz-3"],
        "x-amz-iv": b64(iv),
        "x-amz-cek-alg": "AES/CBC/PKCS5Padding",
        "x-amz-wrap-alg": "AES/GCM",
        "x-amz-matdesc": "{}",
    }
    plain_s3.put_object(Bucket=BUCKET, Key="forged", Body=cbc_body(data_key, iv, b"forged"), Metadata=forged)
    if warm:
        assert reader.get_object(Bucket=BUCKET, Key="v3")["Body"].read() == b"genuine"
    else:
        cache.clear()
    with pytest.raises(s3crypt.DecryptionError):
        reader.get_object(Bucket=BUCKET, Key="forged")["Body"].read()


def relabelled_copy(plain_s3: Any, s3c_v2: Any) -> None:
    """Tenant A's V2 KMS object, copied to ``copy`` with ``x-amz-wrap-alg`` relabelled to legacy ``kms``."""
    s3c_v2.put_object(Bucket=BUCKET, Key="tenant-a", Body=b"tenant A's secret", EncryptionContext={"tenant": "a"})
    stored = plain_s3.get_object(Bucket=BUCKET, Key="tenant-a")
    metadata = {**stored["Metadata"], "x-amz-wrap-alg": "kms"}
    plain_s3.put_object(Bucket=BUCKET, Key="copy", Body=stored["Body"].read(), Metadata=metadata)


def legacy_reader(keyring: s3crypt.KmsKeyring, **options: Any) -> Any:
    return s3crypt.client(
        "s3",
        keyring=keyring,
        region_name=TEST_REGION,
        enable_legacy_wrapping_algorithms=True,
        enable_legacy_unauthenticated_modes=True,
        **V2_OPTIONS,
        **options,
    )


def test_relabelling_to_legacy_kms_does_not_skip_the_callers_context(
    plain_s3: Any, s3c_v2: Any, keyring: s3crypt.KmsKeyring
) -> None:
    relabelled_copy(plain_s3, s3c_v2)
    with pytest.raises(s3crypt.DecryptionError):
        legacy_reader(keyring).get_object(Bucket=BUCKET, Key="copy", EncryptionContext={"tenant": "b"})


def test_relabelling_to_legacy_kms_does_not_skip_the_location_binding(
    plain_s3: Any, s3c_v2: Any, keyring: s3crypt.KmsKeyring
) -> None:
    relabelled_copy(plain_s3, s3c_v2)
    with pytest.raises(s3crypt.DecryptionError):
        legacy_reader(keyring, bind_object_location=True).get_object(Bucket=BUCKET, Key="copy")


def test_a_legacy_kms_key_opens_no_gcm_object_even_without_a_context(
    plain_s3: Any, s3c_v2: Any, keyring: s3crypt.KmsKeyring
) -> None:
    """V1-era clients wrote ``kms`` keys only beside AES-CBC content; a GCM object carrying one was relabelled."""
    relabelled_copy(plain_s3, s3c_v2)
    with pytest.raises(s3crypt.DecryptionError, match="legacy 'kms'"):
        legacy_reader(keyring).get_object(Bucket=BUCKET, Key="copy")["Body"].read()


def test_the_stored_context_loses_both_reserved_keys_before_the_comparison(
    plain_s3: Any, s3c: Any, kms: Any, kms_key: str
) -> None:
    """s3-kms-keyring.md: ``aws:x-amz-cek-alg`` and ``kms_cmk_id`` are removed from the stored context."""
    context = {"tenant": "a", "kms_cmk_id": kms_key, "aws:x-amz-cek-alg": "115"}
    generated = kms.generate_data_key(KeyId=kms_key, KeySpec="AES_256", EncryptionContext=context)
    s3c.put_object(Bucket=BUCKET, Key="template", Body=b"x")
    template = plain_s3.head_object(Bucket=BUCKET, Key="template")["Metadata"]
    message_id = base64.b64decode(template["x-amz-i"])

    def derive(label: bytes, length: int) -> bytes:
        return HKDF(hashes.SHA512(), length, salt=message_id, info=b"\x00\x73" + label).derive(generated["Plaintext"])

    body = AESGCM(derive(b"DERIVEKEY", 32)).encrypt(b"\x01" * 12, b"written elsewhere", b"\x00\x73")
    metadata = {
        **template,
        "x-amz-3": b64(generated["CiphertextBlob"]),
        "x-amz-d": b64(derive(b"COMMITKEY", 28)),
        "x-amz-t": json.dumps(context),
    }
    plain_s3.put_object(Bucket=BUCKET, Key="other-writer", Body=body, Metadata=metadata)
    got = s3c.get_object(Bucket=BUCKET, Key="other-writer", EncryptionContext={"tenant": "a"})
    assert got["Body"].read() == b"written elsewhere"


@pytest.mark.parametrize("their_config", [None, Config(user_agent_extra="their-app/2")], ids=["default", "theirs"])
def test_kms_calls_of_the_kms_client_s3crypt_creates_carry_its_user_agent(
    plain_s3: Any, kms_key: str, their_config: Config | None
) -> None:
    agents: list[str] = []
    client = s3crypt.client("s3", kms_key_id=kms_key, region_name=TEST_REGION, config=their_config)
    kms_client = client._s3crypt_keyring.inner.kms_client
    kms_client.meta.events.register(
        "before-send.kms", lambda request, **_: agents.append(str(request.headers["User-Agent"]))
    )
    client.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    client.get_object(Bucket=BUCKET, Key="k")["Body"].read()
    assert len(agents) == 2
    for agent in agents:
        assert f"s3crypt/{s3crypt.__version__}" in agent
        assert their_config is None or "their-app/2" in agent
