"""Raw RSA keyring: ``RSA-OAEP-SHA1`` wrapping of the data key under an RSA key pair you hold (no KMS).

The wrapped plaintext is the data key's length (one byte), the data key, then the suite's binding (``115`` for
V3, the content cipher's name for V2), so a wrapped key cannot be moved to an object of another suite.
Legacy reads (opt-in on the client):
``RSA/ECB/OAEPWithSHA-256AndMGF1Padding``, RSA-OAEP-SHA256 of the bare data key, and V1's ``RSA``, RSA PKCS#1 v1.5
of the bare data key.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

from cryptography.hazmat.primitives import constant_time, hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from s3crypt._crypto.suites import DATA_KEY_LENGTH, AlgorithmSuite
from s3crypt._errors import ConfigurationError, DecryptionError
from s3crypt._format.metadata import LEGACY_RSA_PKCS1, RSA_OAEP_SHA1, EncryptedDataKey
from s3crypt._keyrings.base import RawKeyring, fingerprint

_LEGACY_OAEP_SHA256 = "RSA/ECB/OAEPWithSHA-256AndMGF1Padding"


def _oaep(hash_algorithm: hashes.HashAlgorithm) -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(algorithm=hash_algorithm), algorithm=hash_algorithm, label=None)


class RsaKeyring(RawKeyring):
    """Wraps data keys with RSA-OAEP (SHA-1) under ``public_key``; unwraps them with ``private_key``.

    Keys are ``cryptography`` key objects or PEM bytes (PKCS#1 or PKCS#8). A keyring with only the public key
    can write objects but not read them; with only the private key it does both.
    """

    wrapping_algorithm = RSA_OAEP_SHA1

    def __init__(
        self,
        public_key: rsa.RSAPublicKey | bytes | None = None,
        private_key: rsa.RSAPrivateKey | bytes | None = None,
        material_description: Mapping[str, str] | None = None,
        *,
        require_matching_description: bool = False,
    ) -> None:
        super().__init__(material_description, require_matching_description)
        self._private = _load_private(private_key) if private_key is not None else None
        if public_key is not None:
            self._public: rsa.RSAPublicKey | None = _load_public(public_key)
        else:
            self._public = self._private.public_key() if self._private is not None else None
        if self._public is None:
            raise ConfigurationError("RsaKeyring needs a public_key, a private_key, or both")

    def cache_identity(self) -> Hashable:
        assert self._public is not None
        der = self._public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return ("rsa", fingerprint(der), self._private is not None, frozenset(self.material_description.items()))

    def _wrap(self, data_key: bytes, suite: AlgorithmSuite) -> bytes:
        assert self._public is not None
        plaintext = bytes([len(data_key)]) + data_key + suite.key_binding
        return self._public.encrypt(plaintext, _oaep(hashes.SHA1()))

    def _unwrap(self, encrypted: EncryptedDataKey, suite: AlgorithmSuite) -> bytes:
        if encrypted.wrapping_algorithm not in _PADDINGS:
            raise self._wrong_keyring(encrypted)
        if self._private is None:
            raise ConfigurationError("this RsaKeyring has only a public key: give it the private key to read objects")
        legacy = encrypted.wrapping_algorithm != RSA_OAEP_SHA1
        try:
            plaintext = self._private.decrypt(encrypted.ciphertext, _PADDINGS[encrypted.wrapping_algorithm])
        except ValueError:
            raise DecryptionError(
                "the data key did not unwrap with this RSA private key: it is not the key the object was written "
                "with, or the wrapped key was altered"
            ) from None
        if legacy:
            return plaintext
        length = plaintext[0] if plaintext else 0
        data_key, cipher_name = plaintext[1 : 1 + length], plaintext[1 + length :]
        if length != DATA_KEY_LENGTH or not constant_time.bytes_eq(cipher_name, suite.key_binding):
            raise DecryptionError(
                f"the RSA-wrapped key is for content algorithm {cipher_name[:40]!r}, not this object's "
                f"{suite.key_binding.decode()!r}: the wrapped key was moved from another object"
            )
        return data_key


# RSA-OAEP-SHA1, and the legacy wrappings (opt-in): OAEP-SHA256 and, from V1 clients, PKCS#1 v1.5 ("RSA").
_PADDINGS: dict[str, padding.AsymmetricPadding] = {
    RSA_OAEP_SHA1: _oaep(hashes.SHA1()),
    _LEGACY_OAEP_SHA256: _oaep(hashes.SHA256()),
    LEGACY_RSA_PKCS1: padding.PKCS1v15(),
}


def _load_public(key: rsa.RSAPublicKey | bytes) -> rsa.RSAPublicKey:
    try:
        loaded = serialization.load_pem_public_key(key) if isinstance(key, bytes) else key
    except ValueError:
        raise ConfigurationError("public_key is not a PEM public key") from None
    if not isinstance(loaded, rsa.RSAPublicKey):
        raise ConfigurationError("public_key must be an RSA public key (object or PEM)")
    return loaded


def _load_private(key: rsa.RSAPrivateKey | bytes) -> rsa.RSAPrivateKey:
    try:
        loaded = serialization.load_pem_private_key(key, password=None) if isinstance(key, bytes) else key
    except (ValueError, TypeError):
        raise ConfigurationError("private_key is not an unencrypted PEM private key") from None
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise ConfigurationError("private_key must be an RSA private key (object or unencrypted PEM)")
    return loaded
