"""An independent reference codec of the S3 Encryption Client format, for raw AES and RSA keys.

Written from the specification (``awslabs/aws-encryption-sdk-specification``, ``s3-encryption/``) and the AWS
Java v4 client's keyrings (``materials/AesKeyring.java``, ``RsaKeyring.java``), without importing s3crypt, so
that s3crypt is tested against a reading of the format it did not write. It is deliberately plain: whole bodies
in memory, no streaming, no policies. It produces and reads what S3 stores: a body and a ``Metadata`` dict
(keys without ``x-amz-meta-``).
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SUITE_V3 = 0x0073
V2_CIPHER = "AES/GCM/NoPadding"
# content-metadata.md, x-amz-w: the V3 wrapping algorithm codes.
V3_WRAP_CODE = {"AES/GCM": "02", "RSA-OAEP-SHA1": "22"}


@dataclass(frozen=True)
class AesKey:
    """A raw 32-byte AES wrapping key (wrapping algorithm ``AES/GCM``)."""

    key: bytes

    wrap_alg = "AES/GCM"

    def wrap(self, data_key: bytes, binding: bytes) -> bytes:
        # AesKeyring.java: 12-byte random IV || AES-GCM(data key, AAD = binding) with the tag appended.
        iv = os.urandom(12)
        return iv + AESGCM(self.key).encrypt(iv, data_key, binding)

    def unwrap(self, wrapped: bytes, binding: bytes) -> bytes:
        return AESGCM(self.key).decrypt(wrapped[:12], wrapped[12:], binding)


@dataclass(frozen=True)
class RsaKey:
    """An RSA key pair (wrapping algorithm ``RSA-OAEP-SHA1``)."""

    private: rsa.RSAPrivateKey

    wrap_alg = "RSA-OAEP-SHA1"
    _oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)

    def wrap(self, data_key: bytes, binding: bytes) -> bytes:
        # RsaKeyring.java: the "pseudo data key" is len(data key) as one byte || data key || binding.
        return self.private.public_key().encrypt(bytes([len(data_key)]) + data_key + binding, self._oaep)

    def unwrap(self, wrapped: bytes, binding: bytes) -> bytes:
        pseudo = self.private.decrypt(wrapped, self._oaep)
        length = pseudo[0]
        if length not in (16, 24, 32) or pseudo[1 + length :] != binding:
            raise ValueError("the RSA pseudo data key names another content algorithm")
        return pseudo[1 : 1 + length]


Key = AesKey | RsaKey


def binding(version: int) -> bytes:
    """What a raw wrap binds the data key to: Java v4 uses the suite id as a string for V3, else the cipher name."""
    return str(SUITE_V3).encode() if version == 3 else V2_CIPHER.encode()


def _v3_keys(data_key: bytes, message_id: bytes) -> tuple[bytes, bytes]:
    """key-derivation.md: HKDF-SHA512, salt = message id; info = suite id (2 bytes) || DERIVEKEY / COMMITKEY."""
    suite_id = SUITE_V3.to_bytes(2, "big")

    def expand(label: bytes, length: int) -> bytes:
        return HKDF(hashes.SHA512(), length, salt=message_id, info=suite_id + label).derive(data_key)

    return expand(b"DERIVEKEY", 32), expand(b"COMMITKEY", 28)


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def encrypt(
    plaintext: bytes,
    key: Key,
    version: int,
    material_description: dict[str, str] | None = None,
    *,
    data_key: bytes | None = None,
    iv: bytes | None = None,
) -> tuple[dict[str, str], bytes]:
    """Metadata and body of a new object (``data_key`` and ``iv``/message id may be fixed for vectors)."""
    data_key = data_key or os.urandom(32)
    description = json.dumps(material_description or {})
    wrapped = key.wrap(data_key, binding(version))
    if version == 3:
        message_id = iv or os.urandom(28)
        content_key, commitment = _v3_keys(data_key, message_id)
        body = AESGCM(content_key).encrypt(b"\x01" * 12, plaintext, SUITE_V3.to_bytes(2, "big"))
        metadata = {
            "x-amz-c": str(SUITE_V3),
            "x-amz-3": _b64(wrapped),
            "x-amz-w": V3_WRAP_CODE[key.wrap_alg],
            "x-amz-m": description,
            "x-amz-d": _b64(commitment),
            "x-amz-i": _b64(message_id),
        }
        return metadata, body
    nonce = iv or os.urandom(12)
    body = AESGCM(data_key).encrypt(nonce, plaintext, None)
    metadata = {
        "x-amz-key-v2": _b64(wrapped),
        "x-amz-iv": _b64(nonce),
        "x-amz-cek-alg": V2_CIPHER,
        "x-amz-wrap-alg": key.wrap_alg,
        "x-amz-matdesc": description,
        "x-amz-tag-len": "128",
        "x-amz-unencrypted-content-length": str(len(plaintext)),
    }
    return metadata, body


def decrypt(metadata: dict[str, str], body: bytes, key: Key) -> bytes:
    """The plaintext of an object written by any S3EC-format writer with ``key``."""
    if "x-amz-3" in metadata:
        if metadata["x-amz-c"] != str(SUITE_V3):
            raise ValueError("not a V3 content algorithm")
        if {v: k for k, v in V3_WRAP_CODE.items()}[metadata["x-amz-w"]] != key.wrap_alg:
            raise ValueError("wrapped under another wrapping algorithm")
        data_key = key.unwrap(base64.b64decode(metadata["x-amz-3"]), binding(3))
        content_key, commitment = _v3_keys(data_key, base64.b64decode(metadata["x-amz-i"]))
        if commitment != base64.b64decode(metadata["x-amz-d"]):
            raise ValueError("key commitment mismatch")
        return AESGCM(content_key).decrypt(b"\x01" * 12, body, SUITE_V3.to_bytes(2, "big"))
    if metadata["x-amz-cek-alg"] != V2_CIPHER or metadata["x-amz-wrap-alg"] != key.wrap_alg:
        raise ValueError("not a V2 GCM object wrapped with this key's algorithm")
    data_key = key.unwrap(base64.b64decode(metadata["x-amz-key-v2"]), binding(2))
    return AESGCM(data_key).decrypt(base64.b64decode(metadata["x-amz-iv"]), body, None)
