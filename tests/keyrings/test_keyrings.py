"""Every keyring x suite round trip, legacy objects built from the format facts, discovery and allow-lists."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as asymmetric_padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

import s3crypt
from s3crypt.testing import TEST_REGION
from tests.conftest import BUCKET, V2_OPTIONS

AES_KEY = bytes(range(32))
RSA_PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SIZES = [0, 17, 300_001]


def rsa_pem(private: bool, pkcs1: bool) -> bytes:
    if private:
        return RSA_PRIVATE.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL if pkcs1 else serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    return RSA_PRIVATE.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.PKCS1 if pkcs1 else serialization.PublicFormat.SubjectPublicKeyInfo,
    )


@pytest.fixture(params=["kms", "aes", "rsa"])
def any_keyring(request: pytest.FixtureRequest) -> s3crypt.Keyring:
    if request.param == "kms":
        keyring: s3crypt.Keyring = request.getfixturevalue("keyring")
        return keyring
    if request.param == "aes":
        return s3crypt.AesKeyring(AES_KEY, {"purpose": "tests"})
    return s3crypt.RsaKeyring(private_key=rsa_pem(private=True, pkcs1=False), material_description={"k": "rsa"})


@pytest.mark.parametrize("version", ["v3", "v2"])
@pytest.mark.parametrize("strategy", ["metadata", "instruction"])
@pytest.mark.parametrize("size", SIZES)
def test_round_trip_every_keyring_suite_and_strategy(
    plain_s3: Any, any_keyring: s3crypt.Keyring, version: str, strategy: str, size: int
) -> None:
    options = V2_OPTIONS if version == "v2" else {}
    client = s3crypt.client(
        "s3", keyring=any_keyring, region_name=TEST_REGION, instruction_file=strategy == "instruction", **options
    )
    body = os.urandom(size)
    client.put_object(Bucket=BUCKET, Key="k", Body=body)
    assert plain_s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == (2 if strategy == "instruction" else 1)
    assert client.get_object(Bucket=BUCKET, Key="k")["Body"].read() == body


def test_raw_keyrings_store_their_material_description(plain_s3: Any) -> None:
    client = s3crypt.client("s3", keyring=s3crypt.AesKeyring(AES_KEY, {"team": "é"}), region_name=TEST_REGION)
    client.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    stored = plain_s3.head_object(Bucket=BUCKET, Key="k")["Metadata"]
    assert stored["x-amz-w"] == "02"
    assert json.loads(stored["x-amz-m"]) == {"team": "é"}
    v2 = s3crypt.client("s3", keyring=s3crypt.AesKeyring(AES_KEY), region_name=TEST_REGION, **V2_OPTIONS)
    v2.put_object(Bucket=BUCKET, Key="v2", Body=b"x")
    stored = plain_s3.head_object(Bucket=BUCKET, Key="v2")["Metadata"]
    assert (stored["x-amz-wrap-alg"], stored["x-amz-matdesc"]) == ("AES/GCM", "{}")
    assert len(base64.b64decode(stored["x-amz-key-v2"])) == 60


def test_wrong_raw_keys_and_descriptions(plain_s3: Any) -> None:
    writer = s3crypt.client("s3", keyring=s3crypt.AesKeyring(AES_KEY, {"v": "1"}), region_name=TEST_REGION)
    writer.put_object(Bucket=BUCKET, Key="k", Body=b"secret")
    other_key = s3crypt.client("s3", keyring=s3crypt.AesKeyring(bytes(32)), region_name=TEST_REGION)
    with pytest.raises(s3crypt.DecryptionError, match="did not unwrap"):
        other_key.get_object(Bucket=BUCKET, Key="k")
    strict = s3crypt.AesKeyring(AES_KEY, {"v": "2"}, require_matching_description=True)
    with pytest.raises(s3crypt.DecryptionError, match="material description"):
        s3crypt.client("s3", keyring=strict, region_name=TEST_REGION).get_object(Bucket=BUCKET, Key="k")
    lenient = s3crypt.AesKeyring(AES_KEY, {"v": "2"})
    got = s3crypt.client("s3", keyring=lenient, region_name=TEST_REGION).get_object(Bucket=BUCKET, Key="k")
    assert got["Body"].read() == b"secret"
    rsa_client = s3crypt.client("s3", keyring=s3crypt.RsaKeyring(private_key=RSA_PRIVATE), region_name=TEST_REGION)
    with pytest.raises(s3crypt.FormatError, match="cannot unwrap"):
        rsa_client.get_object(Bucket=BUCKET, Key="k")


def test_rsa_public_only_writes_private_reads_and_pem_forms(plain_s3: Any) -> None:
    public = s3crypt.RsaKeyring(public_key=rsa_pem(private=False, pkcs1=True))
    writer = s3crypt.client("s3", keyring=public, region_name=TEST_REGION)
    writer.put_object(Bucket=BUCKET, Key="k", Body=b"for the private key")
    with pytest.raises(s3crypt.ConfigurationError, match="only a public key"):
        writer.get_object(Bucket=BUCKET, Key="k")
    reader = s3crypt.client(
        "s3", keyring=s3crypt.RsaKeyring(private_key=rsa_pem(private=True, pkcs1=True)), region_name=TEST_REGION
    )
    assert reader.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"for the private key"


def test_rsa_wrapped_key_names_its_content_cipher() -> None:
    keyring = s3crypt.RsaKeyring(private_key=RSA_PRIVATE)
    wrapped = RSA_PRIVATE.public_key().encrypt(
        b"\x20" + bytes(32) + b"AES/CBC/PKCS5Padding",
        asymmetric_padding.OAEP(asymmetric_padding.MGF1(hashes.SHA1()), hashes.SHA1(), None),
    )
    edk = s3crypt.EncryptedDataKey("RSA-OAEP-SHA1", wrapped, {})
    with pytest.raises(s3crypt.DecryptionError, match="moved from another object"):
        keyring.decrypt_data_key(edk, s3crypt.AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF, {})


def test_raw_keyrings_refuse_an_encryption_context_and_bad_keys(plain_s3: Any) -> None:
    client = s3crypt.client("s3", keyring=s3crypt.AesKeyring(AES_KEY), region_name=TEST_REGION)
    with pytest.raises(s3crypt.ConfigurationError, match="KMS keyring"):
        client.put_object(Bucket=BUCKET, Key="k", Body=b"x", EncryptionContext={"a": "b"})
    with pytest.raises(s3crypt.ConfigurationError, match="32 bytes"):
        s3crypt.AesKeyring(b"short")
    with pytest.raises(s3crypt.ConfigurationError, match="public_key, a private_key"):
        s3crypt.RsaKeyring()
    with pytest.raises(s3crypt.ConfigurationError, match="str to str"):
        s3crypt.AesKeyring(AES_KEY, {"n": 1})  # type: ignore[dict-item]


def test_kms_discovery_decrypts_within_its_allow_lists(s3c: Any, kms: Any, kms_key: str) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=b"discover me", EncryptionContext={"a": "1"})
    arn = kms.describe_key(KeyId=kms_key)["KeyMetadata"]["Arn"]
    account = arn.split(":")[4]
    for allowed in [{}, {"allowed_key_arns": [arn]}, {"allowed_accounts": [account]}]:
        keyring = s3crypt.KmsKeyring.discovery(kms_client=kms, **allowed)
        client = s3crypt.client("s3", keyring=keyring, region_name=TEST_REGION)
        assert client.get_object(Bucket=BUCKET, Key="k", EncryptionContext={"a": "1"})["Body"].read() == b"discover me"
    for excluded in [{"allowed_key_arns": [arn + "-other"]}, {"allowed_accounts": ["000000000000"]}]:
        keyring = s3crypt.KmsKeyring.discovery(kms_client=kms, **excluded)
        client = s3crypt.client("s3", keyring=keyring, region_name=TEST_REGION)
        with pytest.raises(s3crypt.DecryptionError, match="allow-lists exclude"):
            client.get_object(Bucket=BUCKET, Key="k", EncryptionContext={"a": "1"})
    with pytest.raises(s3crypt.ConfigurationError, match="only decrypts"):
        client.put_object(Bucket=BUCKET, Key="new", Body=b"x")


# Legacy objects, built here from the format facts of ../shared/FORMAT.md


def cbc_object(data_key: bytes, plaintext: bytes) -> tuple[bytes, bytes]:
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(data_key), modes.CBC(iv)).encryptor()
    return iv, encryptor.update(padded) + encryptor.finalize()


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def legacy_wrappings(kms: Any, kms_key: str, data_key: bytes) -> dict[str, tuple[s3crypt.Keyring, dict[str, str]]]:
    """Each legacy wrapping of ``data_key``: the keyring that opens it and the metadata it leaves (V1 layout)."""
    kms_wrapped = kms.encrypt(KeyId=kms_key, Plaintext=data_key, EncryptionContext={"kms_cmk_id": kms_key})
    ecb = Cipher(algorithms.AES(AES_KEY), modes.ECB()).encryptor()
    padder = padding.PKCS7(128).padder()
    ecb_wrapped = ecb.update(padder.update(data_key) + padder.finalize()) + ecb.finalize()
    oaep256 = asymmetric_padding.OAEP(asymmetric_padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)
    return {
        "kms": (
            s3crypt.KmsKeyring(kms_key, kms_client=kms),
            {"x-amz-key": b64(kms_wrapped["CiphertextBlob"]), "x-amz-matdesc": json.dumps({"kms_cmk_id": kms_key})},
        ),
        "AESWrap": (
            s3crypt.AesKeyring(AES_KEY),
            {"x-amz-key": b64(aes_key_wrap(AES_KEY, data_key)), "x-amz-wrap-alg": "AESWrap", "x-amz-matdesc": "{}"},
        ),
        "AES": (s3crypt.AesKeyring(AES_KEY), {"x-amz-key": b64(ecb_wrapped), "x-amz-matdesc": "{}"}),
        "RSA": (  # V1 without x-amz-wrap-alg: PKCS#1 v1.5, told from AES-ECB by the wrapped key's length
            s3crypt.RsaKeyring(private_key=RSA_PRIVATE),
            {"x-amz-key": b64(RSA_PRIVATE.public_key().encrypt(data_key, asymmetric_padding.PKCS1v15()))},
        ),
        "RSA/ECB/OAEPWithSHA-256AndMGF1Padding": (
            s3crypt.RsaKeyring(private_key=RSA_PRIVATE),
            {
                "x-amz-key": b64(RSA_PRIVATE.public_key().encrypt(data_key, oaep256)),
                "x-amz-wrap-alg": "RSA/ECB/OAEPWithSHA-256AndMGF1Padding",
                "x-amz-matdesc": "{}",
            },
        ),
    }


@pytest.mark.parametrize("wrapping", ["kms", "AESWrap", "AES", "RSA", "RSA/ECB/OAEPWithSHA-256AndMGF1Padding"])
@pytest.mark.parametrize("size", [0, 16, 1000])
def test_v1_cbc_objects_open_only_when_both_legacy_options_are_on(
    plain_s3: Any, kms: Any, kms_key: str, wrapping: str, size: int
) -> None:
    data_key, plaintext = os.urandom(32), os.urandom(size)
    keyring, wrapped_metadata = legacy_wrappings(kms, kms_key, data_key)[wrapping]
    iv, ciphertext = cbc_object(data_key, plaintext)
    stored = {**wrapped_metadata, "x-amz-iv": b64(iv), "x-amz-unencrypted-content-length": str(size)}
    plain_s3.put_object(Bucket=BUCKET, Key="v1", Body=ciphertext, Metadata=stored)

    def client(**options: bool) -> Any:
        return s3crypt.client(
            "s3",
            keyring=keyring,
            region_name=TEST_REGION,
            commitment_policy=s3crypt.CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT,
            **options,
        )

    with pytest.raises(s3crypt.FormatError, match="enable_legacy_unauthenticated_modes=True"):
        client().get_object(Bucket=BUCKET, Key="v1")
    with pytest.raises(s3crypt.FormatError, match="enable_legacy_wrapping_algorithms=True"):
        client(enable_legacy_unauthenticated_modes=True).get_object(Bucket=BUCKET, Key="v1")
    both = client(enable_legacy_unauthenticated_modes=True, enable_legacy_wrapping_algorithms=True)
    got = both.get_object(Bucket=BUCKET, Key="v1")
    assert (got["ContentLength"], got["Body"].read()) == (size, plaintext)


def test_v2_cbc_object_with_a_modern_wrapping(
    plain_s3: Any, keyring: s3crypt.KmsKeyring, kms: Any, kms_key: str
) -> None:
    data_key = os.urandom(32)
    context = {"aws:x-amz-cek-alg": "AES/CBC/PKCS5Padding"}
    wrapped = kms.encrypt(KeyId=kms_key, Plaintext=data_key, EncryptionContext=context)["CiphertextBlob"]
    iv, ciphertext = cbc_object(data_key, b"cbc content under kms+context")
    stored = {
        "x-amz-key-v2": b64(wrapped),
        "x-amz-iv": b64(iv),
        "x-amz-cek-alg": "AES/CBC/PKCS5Padding",
        "x-amz-wrap-alg": "kms+context",
        "x-amz-matdesc": json.dumps(context),
    }
    plain_s3.put_object(Bucket=BUCKET, Key="cbc", Body=ciphertext, Metadata=stored)
    client = s3crypt.client(
        "s3",
        keyring=keyring,
        region_name=TEST_REGION,
        commitment_policy=s3crypt.CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
        algorithm_suite=s3crypt.AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF,
        enable_legacy_unauthenticated_modes=True,
    )
    got = client.get_object(Bucket=BUCKET, Key="cbc")
    assert "ContentLength" not in got  # CBC pads, and this object does not record its length
    assert got["Body"].read() == b"cbc content under kms+context"


def test_discovery_allow_lists_are_lists_and_pem_errors_are_configuration_errors() -> None:
    with pytest.raises(s3crypt.ConfigurationError, match="lists of strings"):
        s3crypt.KmsKeyring.discovery(allowed_accounts="123456789012")
    with pytest.raises(s3crypt.ConfigurationError, match="PEM"):
        s3crypt.RsaKeyring(private_key=b"not a pem")
    with pytest.raises(s3crypt.ConfigurationError, match="PEM"):
        s3crypt.RsaKeyring(public_key=b"not a pem")


@pytest.mark.parametrize(
    ("code", "status", "advice"),
    [
        ("ThrottlingException", 400, "try again later"),
        ("KMSInternalException", 500, "try again later"),
        ("AccessDeniedException", 400, "check that this is the key"),
        ("InvalidCiphertextException", 400, "check that this is the key"),
    ],
)
def test_kms_failures_say_whether_to_retry_or_to_check_the_key(code: str, status: int, advice: str) -> None:
    kms = boto3.client("kms", region_name=TEST_REGION)
    keyring = s3crypt.KmsKeyring("alias/some-key", kms_client=kms)
    wrapped = s3crypt.EncryptedDataKey("kms+context", b"wrapped", {"aws:x-amz-cek-alg": "AES/GCM/NoPadding"})
    with Stubber(kms) as stubber:
        stubber.add_client_error("decrypt", service_error_code=code, http_status_code=status)
        with pytest.raises(s3crypt.DecryptionError, match=advice):
            keyring.decrypt_data_key(wrapped, s3crypt.AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF, {})
