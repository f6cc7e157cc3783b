"""Raw AES keyring: ``AES/GCM`` wrapping of the data key under a 32-byte key you hold (no KMS).

Legacy reads (opt-in on the client): ``AESWrap`` (RFC 3394) and ``AES`` (AES-ECB, written by V1 clients).
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap

from s3crypt._crypto.suites import DATA_KEY_LENGTH, AlgorithmSuite
from s3crypt._errors import ConfigurationError, DecryptionError
from s3crypt._format.metadata import AES_GCM, EncryptedDataKey
from s3crypt._keyrings.base import RawKeyring, fingerprint

_IV_LENGTH = 12


class AesKeyring(RawKeyring):
    """Wraps data keys with AES-256-GCM under ``wrapping_key`` (32 bytes).

    ``material_description`` (a dict of strings, ``{}`` by default) is stored with every object; with
    ``require_matching_description`` a read also checks that the stored description equals it.
    """

    wrapping_algorithm = AES_GCM

    def __init__(
        self,
        wrapping_key: bytes,
        material_description: Mapping[str, str] | None = None,
        *,
        require_matching_description: bool = False,
    ) -> None:
        if not isinstance(wrapping_key, (bytes, bytearray)) or len(wrapping_key) != DATA_KEY_LENGTH:
            raise ConfigurationError("wrapping_key must be 32 bytes (AES-256)")
        super().__init__(material_description, require_matching_description)
        self._key = bytes(wrapping_key)

    def cache_identity(self) -> Hashable:
        return ("aes", fingerprint(self._key), frozenset(self.material_description.items()))

    def _wrap(self, data_key: bytes, suite: AlgorithmSuite) -> bytes:
        iv = os.urandom(_IV_LENGTH)
        return iv + AESGCM(self._key).encrypt(iv, data_key, _aad(suite))

    def _unwrap(self, encrypted: EncryptedDataKey, suite: AlgorithmSuite) -> bytes:
        wrapped = encrypted.ciphertext
        try:
            if encrypted.wrapping_algorithm == AES_GCM:
                return AESGCM(self._key).decrypt(wrapped[:_IV_LENGTH], wrapped[_IV_LENGTH:], _aad(suite))
            if encrypted.wrapping_algorithm == "AESWrap":
                return aes_key_unwrap(self._key, wrapped)
            if encrypted.wrapping_algorithm == "AES":
                return _ecb_unwrap(self._key, wrapped)
        except (InvalidTag, InvalidUnwrap, ValueError):
            raise DecryptionError(
                "the data key did not unwrap with this AES wrapping key: it is not the key the object was written "
                "with, or the wrapped key was altered"
            ) from None
        raise self._wrong_keyring(encrypted)


def _aad(suite: AlgorithmSuite) -> bytes:
    """The wrapped key's AAD: the object's suite, so a key cannot move to an object of another suite."""
    return suite.key_binding


def _ecb_unwrap(key: bytes, wrapped: bytes) -> bytes:
    """The V1 ``AES`` wrapping: AES-ECB of the data key, PKCS#7-padded by Java's default ``AES`` cipher."""
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    padded = decryptor.update(wrapped) + decryptor.finalize()
    if len(padded) == DATA_KEY_LENGTH:
        return padded
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()
