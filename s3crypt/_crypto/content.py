"""Per-object content cipher parameters: the key, nonce and AAD that AES-GCM runs with.

V2 (suite 0x0072) encrypts with the data key itself under a random 12-byte IV. V3 (suite 0x0073) derives the
content key and a key commitment from the data key with HKDF-SHA512 salted by a random 28-byte message id,
and encrypts under a fixed IV with the suite id as AAD.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import constant_time, hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from s3crypt._crypto.suites import DATA_KEY_LENGTH, AlgorithmSuite
from s3crypt._errors import DecryptionError

_V3_SUITE_ID = AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY.value.to_bytes(2, "big")
_V3_NONCE = b"\x01" * 12
COMMITMENT_LENGTH = 28


@dataclass(frozen=True)
class ContentCipher:
    """What AES-GCM needs to encrypt or decrypt one object's content."""

    suite: AlgorithmSuite
    key: bytes = field(repr=False)
    nonce: bytes
    """The GCM nonce, or for the legacy CBC suite its IV."""
    aad: bytes


def _hkdf(data_key: bytes, message_id: bytes, label: bytes, length: int) -> bytes:
    kdf = HKDF(algorithm=hashes.SHA512(), length=length, salt=message_id, info=_V3_SUITE_ID + label)
    return kdf.derive(data_key)


def new_iv(suite: AlgorithmSuite) -> bytes:
    """A fresh IV (V2) or message id (V3); a message id is never all zeros."""
    while True:
        iv = os.urandom(suite.iv_length)
        if any(iv):
            return iv


def commitment_for(data_key: bytes, message_id: bytes) -> bytes:
    return _hkdf(data_key, message_id, b"COMMITKEY", COMMITMENT_LENGTH)


def content_cipher(suite: AlgorithmSuite, data_key: bytes, iv: bytes) -> ContentCipher:
    """Cipher parameters of an object; ``iv`` is the stored IV (V1/V2) or message id (V3)."""
    if len(data_key) != DATA_KEY_LENGTH:
        raise DecryptionError("the unwrapped data key is not 32 bytes long: the object's key material is corrupt")
    if len(iv) != suite.iv_length:
        raise DecryptionError(f"the object's IV/message id is {len(iv)} bytes, {suite.name} needs {suite.iv_length}")
    if suite.is_committing:
        key = _hkdf(data_key, iv, b"DERIVEKEY", DATA_KEY_LENGTH)
        return ContentCipher(suite, key=key, nonce=_V3_NONCE, aad=_V3_SUITE_ID)
    return ContentCipher(suite, key=data_key, nonce=iv, aad=b"")


def verify_commitment(data_key: bytes, message_id: bytes, stored: bytes) -> None:
    """Compare the stored key commitment with the one the data key gives, in constant time."""
    if not constant_time.bytes_eq(commitment_for(data_key, message_id), stored):
        raise DecryptionError(
            "key commitment mismatch: the object's data key does not match its stored commitment "
            "(the object or its metadata was tampered with)"
        )
