"""Writes the golden test vectors in this folder: ``python -m tests.vectors.generate``.

KMS vectors are written by the official AWS S3 Encryption Client for Python (the peer) under a seeded moto
KMS key, and by s3crypt; AES and RSA vectors by the independent reference codec in ``tests/reference`` (the peer
has no raw keyrings); legacy vectors (V1 AES-CBC, legacy wrappings) are built from the format facts.
``python -m tests.vectors.generate aes- rsa-`` rewrites only the vectors whose names start with those prefixes.
Each vector holds what S3 stores (body, metadata, instruction
file) and the keys that open it. Vectors are data: regenerate only when adding one, never to make a test pass.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path
from typing import Any

import boto3
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as asymmetric_padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from moto import mock_aws
from s3_encryption import S3EncryptionClient, S3EncryptionClientConfig
from s3_encryption.materials.kms_keyring import KmsKeyring as PeerKmsKeyring
from s3_encryption.materials.materials import AlgorithmSuite as PeerSuite
from s3_encryption.materials.materials import CommitmentPolicy as PeerPolicy

import s3crypt
from s3crypt.testing import TEST_REGION
from tests.reference import codec
from tests.vectors.kms import KEY_ID, fixed_kms_key

HERE = Path(__file__).parent
BUCKET = "vectors"
AES_KEY = bytes.fromhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
PLAINTEXT = "Ünïcode and bytes: the golden vector's plaintext.\n".encode() * 3
V2 = {
    "algorithm_suite": s3crypt.AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF,
    "commitment_policy": s3crypt.CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
}


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def stored(s3: Any, key: str) -> dict[str, Any]:
    response = s3.get_object(Bucket=BUCKET, Key=key)
    try:
        instruction = json.loads(s3.get_object(Bucket=BUCKET, Key=key + ".instruction")["Body"].read())
    except s3.exceptions.NoSuchKey:
        instruction = None
    return {"body": b64(response["Body"].read()), "metadata": response["Metadata"], "instruction_file": instruction}


def write(name: str, vector: dict[str, Any]) -> None:
    if sys.argv[1:] and not name.startswith(tuple(sys.argv[1:])):
        return
    (HERE / f"{name}.json").write_text(json.dumps(vector, indent=2, sort_keys=True) + "\n")


def peer_vectors(s3: Any, kms: Any) -> None:
    for version, suite, policy in (
        ("v3", PeerSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY, PeerPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT),
        ("v2", PeerSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF, PeerPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT),
    ):
        config = S3EncryptionClientConfig(
            keyring=PeerKmsKeyring(kms, KEY_ID), encryption_algorithm=suite, commitment_policy=policy
        )
        peer = S3EncryptionClient(boto3.client("s3", region_name=TEST_REGION), config)  # it hooks its client
        for context in ({}, {"tenant": "acme", "purpose": "vectors"}):
            name = f"kms-{version}-metadata-{'context' if context else 'no-context'}"
            peer.put_object(
                Bucket=BUCKET, Key=name, Body=PLAINTEXT, **({"EncryptionContext": context} if context else {})
            )
            write(
                name,
                {
                    "writer": "amazon-s3-encryption-client-python 4.0.0",
                    "key": {"type": "kms"},
                    "encryption_context": context,
                    "plaintext": b64(PLAINTEXT),
                    **stored(s3, name),
                },
            )


def our_vectors(s3: Any, kms: Any) -> None:
    keyring = s3crypt.KmsKeyring(KEY_ID, kms_client=kms)
    for version, options in (("v3", {}), ("v2", V2)):
        for strategy in ("metadata", "instruction"):
            name = f"kms-{version}-{strategy}-s3crypt"
            client = s3crypt.client("s3", keyring=keyring, region_name=TEST_REGION, **options)
            client.put_object(
                Bucket=BUCKET,
                Key=name,
                Body=PLAINTEXT,
                EncryptionContext={"tenant": "acme"},
                InstructionFile=strategy == "instruction",
            )
            write(
                name,
                {
                    "writer": "s3crypt",
                    "key": {"type": "kms"},
                    "encryption_context": {"tenant": "acme"},
                    "plaintext": b64(PLAINTEXT),
                    **stored(s3, name),
                },
            )


# metadata-strategy.md: what an instruction file holds, by format version (the rest stays with the object).
_IN_INSTRUCTION_FILE = {
    3: {"x-amz-3", "x-amz-w", "x-amz-m", "x-amz-t"},
    2: {"x-amz-key-v2", "x-amz-iv", "x-amz-cek-alg", "x-amz-wrap-alg", "x-amz-matdesc", "x-amz-tag-len"},
}


def reference_vectors(rsa_private: rsa.RSAPrivateKey, rsa_pem: bytes) -> None:
    keys: dict[str, tuple[dict[str, Any], codec.Key]] = {
        "aes": (
            {"type": "aes", "key": b64(AES_KEY), "material_description": {"generation": "1"}},
            codec.AesKey(AES_KEY),
        ),
        "rsa": ({"type": "rsa", "private_pem": rsa_pem.decode()}, codec.RsaKey(rsa_private)),
    }
    for kind, (key, reference_key) in keys.items():
        for version in (3, 2):
            metadata, body = codec.encrypt(PLAINTEXT, reference_key, version, key.get("material_description"))
            for strategy in ("metadata", "instruction"):
                in_file = _IN_INSTRUCTION_FILE[version] if strategy == "instruction" else set()
                write(
                    f"{kind}-v{version}-{strategy}-reference",
                    {
                        "writer": "tests/reference (independent codec, from the spec and AWS's Java v4 keyrings)",
                        "key": key,
                        "encryption_context": {},
                        "plaintext": b64(PLAINTEXT),
                        "body": b64(body),
                        "metadata": {k: v for k, v in metadata.items() if k not in in_file},
                        "instruction_file": {k: v for k, v in metadata.items() if k in in_file} or None,
                    },
                )


def legacy_vectors(kms: Any, rsa_private: rsa.RSAPrivateKey, rsa_pem: bytes) -> None:
    data_key, iv = bytes(range(32)), bytes(range(16))
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(data_key), modes.CBC(iv)).encryptor()
    body = encryptor.update(padder.update(PLAINTEXT) + padder.finalize()) + encryptor.finalize()
    oaep256 = asymmetric_padding.OAEP(asymmetric_padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)
    kms_wrapped = kms.encrypt(KeyId=KEY_ID, Plaintext=data_key, EncryptionContext={"kms_cmk_id": KEY_ID})
    ecb = Cipher(algorithms.AES(AES_KEY), modes.ECB()).encryptor()
    padder = padding.PKCS7(128).padder()
    wrappings = {
        "kms": ({"type": "kms"}, kms_wrapped["CiphertextBlob"], None, {"kms_cmk_id": KEY_ID}),
        "aeswrap": ({"type": "aes", "key": b64(AES_KEY)}, aes_key_wrap(AES_KEY, data_key), "AESWrap", {}),
        "aes-ecb": (
            {"type": "aes", "key": b64(AES_KEY)},
            ecb.update(padder.update(data_key) + padder.finalize()) + ecb.finalize(),
            None,
            {},
        ),
        "rsa-oaep-sha256": (
            {"type": "rsa", "private_pem": rsa_pem.decode()},
            rsa_private.public_key().encrypt(data_key, oaep256),
            "RSA/ECB/OAEPWithSHA-256AndMGF1Padding",
            {},
        ),
    }
    for name, (key, wrapped, wrap_alg, description) in wrappings.items():
        metadata = {
            "x-amz-key": b64(wrapped),
            "x-amz-iv": b64(iv),
            "x-amz-matdesc": json.dumps(description),
            "x-amz-unencrypted-content-length": str(len(PLAINTEXT)),
        }
        if wrap_alg:
            metadata["x-amz-wrap-alg"] = wrap_alg
        write(
            f"legacy-v1-cbc-{name}",
            {
                "writer": "built from FORMAT.md",
                "key": key,
                "encryption_context": {},
                "plaintext": b64(PLAINTEXT),
                "body": b64(body),
                "metadata": metadata,
                "instruction_file": None,
                "legacy": True,
            },
        )


def main() -> None:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    rsa_private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_pem = rsa_private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with mock_aws(), fixed_kms_key() as kms:
        s3 = boto3.client("s3", region_name=TEST_REGION)
        s3.create_bucket(Bucket=BUCKET)
        peer_vectors(s3, kms)
        our_vectors(s3, kms)
        reference_vectors(rsa_private, rsa_pem)
        legacy_vectors(kms, rsa_private, rsa_pem)


if __name__ == "__main__":
    main()
