"""The algorithm suites of the S3 Encryption Client message format and the commitment policies."""

from __future__ import annotations

import enum

GCM_TAG_LENGTH = 16
GCM_MAX_PLAINTEXT = 2**36 - 32
DATA_KEY_LENGTH = 32
_GCM_CIPHER_NAME = "AES/GCM/NoPadding"


class AlgorithmSuite(enum.Enum):
    """Content encryption algorithm of an object, by its S3EC suite id."""

    ALG_AES_256_CBC_IV16_NO_KDF = 0x0070
    ALG_AES_256_GCM_IV12_TAG16_NO_KDF = 0x0072
    ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY = 0x0073

    @property
    def cipher_name(self) -> str:
        """The content cipher's name as written in ``x-amz-cek-alg`` and inside RSA-wrapped keys."""
        if self is AlgorithmSuite.ALG_AES_256_CBC_IV16_NO_KDF:
            return "AES/CBC/PKCS5Padding"
        return _GCM_CIPHER_NAME

    @property
    def context_value(self) -> str:
        """The value of the reserved ``aws:x-amz-cek-alg`` entry of the KMS encryption context."""
        return str(self.value) if self.is_committing else self.cipher_name

    @property
    def key_binding(self) -> bytes:
        """What binds a raw-wrapped data key to this suite: the AAD of an ``AES/GCM`` wrap and the name inside
        an ``RSA-OAEP-SHA1`` pseudo key. V3 uses the suite id as a decimal string (``115``, as AWS's Java v4
        client does, also when a ranged read goes through the CTR suite), V2 the content cipher's name."""
        return self.context_value.encode()

    @property
    def is_committing(self) -> bool:
        return self is AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY

    @property
    def is_legacy(self) -> bool:
        return self is AlgorithmSuite.ALG_AES_256_CBC_IV16_NO_KDF

    @property
    def iv_length(self) -> int:
        """Length of the stored IV, or for the committing suite of the message id."""
        return {0x0070: 16, 0x0072: 12, 0x0073: 28}[self.value]


class CommitmentPolicy(enum.Enum):
    """Which suites a client may write and read (key commitment)."""

    REQUIRE_ENCRYPT_REQUIRE_DECRYPT = "RequireEncryptRequireDecrypt"
    REQUIRE_ENCRYPT_ALLOW_DECRYPT = "RequireEncryptAllowDecrypt"
    FORBID_ENCRYPT_ALLOW_DECRYPT = "ForbidEncryptAllowDecrypt"

    def may_encrypt(self, suite: AlgorithmSuite) -> bool:
        requires = self is not CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
        return suite.is_committing == requires

    def may_decrypt(self, suite: AlgorithmSuite) -> bool:
        return suite.is_committing or self is not CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
