"""The encryption options of one client, validated once when the client is created."""

from __future__ import annotations

from dataclasses import dataclass

from s3crypt._crypto.streams import DEFAULT_MEMORY_LIMIT
from s3crypt._crypto.suites import AlgorithmSuite, CommitmentPolicy
from s3crypt._errors import ConfigurationError
from s3crypt._keyrings.base import Keyring
from s3crypt._keyrings.cache import DataKeyCache


class _DefaultLimit(int):
    """The default ``decrypt_memory_limit``: an int that tells "not set" apart from the same number given."""


_DEFAULT_LIMIT = _DefaultLimit(DEFAULT_MEMORY_LIMIT)


@dataclass(frozen=True)
class EncryptionConfig:
    """Immutable, so one client can be shared between threads.

    Attributes:
        keyring: wraps and unwraps each object's data key.
        algorithm_suite: the suite new objects are written with: V3 (key commitment, the default) or V2.
        commitment_policy: which suites may be written and read; the default writes and reads only V3.
        enable_delayed_authentication: stream plaintext of ``get_object`` before the GCM tag is checked and
            raise :class:`DecryptionError` at the end if it fails. Off by default: the body then releases
            no byte until the whole object is authenticated.
        enable_ranged_get: allow ``get_object(Range=...)``, which decrypts part of an object with AES-CTR and
            cannot check its tag (unauthenticated). Off by default.
        enable_legacy_unauthenticated_modes: read objects whose content is AES-CBC (V1 and some V2 objects of the
            first S3 encryption clients), which has no authentication. Off by default; never used to write.
        enable_legacy_wrapping_algorithms: read data keys wrapped with ``kms`` (V1), ``AESWrap``, ``AES`` or
            ``RSA/ECB/OAEPWithSHA-256AndMGF1Padding``. Off by default; never used to write.
        instruction_file: write each new object's crypto metadata to ``<key>.instruction`` instead of its
            metadata (one call can decide with ``InstructionFile=True``/``False``). Reads find instruction files
            whenever an object's metadata lacks its wrapped key, whatever this option says.
        delete_instruction_files: ``delete_object`` and ``delete_objects`` also delete ``<key>.instruction``
            (or ``<key>`` + ``InstructionFileSuffix``). On by default.
        data_key_cache: a :class:`DataKeyCache` that lets one KMS data key serve many objects (V3 only, where
            each object still gets its own content key from a fresh message id) and saves the KMS ``Decrypt``
            of objects whose key it holds.
        bind_object_location: add ``s3crypt:location`` = ``arn:aws:s3:::bucket/key`` to the encryption context
            of every object written, and expect it on every read, so a ciphertext copied or moved elsewhere fails
            to decrypt there (as SSE-KMS does with ``aws:s3:arn``). Needs a KMS keyring. Off by default.
        decrypt_memory_limit: bytes of an object an authenticating body decrypts into memory while it checks
            the tag; the rest waits as ciphertext in an anonymous temporary file (never plaintext on disk).
    """

    keyring: Keyring
    algorithm_suite: AlgorithmSuite = AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY
    commitment_policy: CommitmentPolicy = CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    enable_delayed_authentication: bool = False
    enable_ranged_get: bool = False
    enable_legacy_unauthenticated_modes: bool = False
    enable_legacy_wrapping_algorithms: bool = False
    instruction_file: bool = False
    delete_instruction_files: bool = True
    data_key_cache: DataKeyCache | None = None
    bind_object_location: bool = False
    decrypt_memory_limit: int = _DEFAULT_LIMIT

    def __post_init__(self) -> None:
        if not isinstance(self.keyring, Keyring):
            raise ConfigurationError(f"keyring must be an s3crypt.Keyring, not {type(self.keyring).__name__}")
        if not isinstance(self.algorithm_suite, AlgorithmSuite):
            raise ConfigurationError(f"algorithm_suite must be an s3crypt.AlgorithmSuite, not {self.algorithm_suite!r}")
        if not isinstance(self.commitment_policy, CommitmentPolicy):
            raise ConfigurationError(
                f"commitment_policy must be an s3crypt.CommitmentPolicy, not {self.commitment_policy!r}"
            )
        if self.algorithm_suite.is_legacy:
            raise ConfigurationError(f"{self.algorithm_suite.name} is a legacy suite, which s3crypt never writes")
        if not self.commitment_policy.may_encrypt(self.algorithm_suite):
            hint = (
                "use commitment_policy=CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT to write V2 objects"
                if not self.algorithm_suite.is_committing
                else "that policy writes V2 only: use algorithm_suite=AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF"
            )
            raise ConfigurationError(
                f"algorithm_suite {self.algorithm_suite.name} contradicts "
                f"commitment_policy {self.commitment_policy.name}: {hint}"
            )
        flags = (
            "enable_delayed_authentication",
            "enable_ranged_get",
            "enable_legacy_unauthenticated_modes",
            "enable_legacy_wrapping_algorithms",
            "instruction_file",
            "delete_instruction_files",
            "bind_object_location",
        )
        for flag in flags:
            if not isinstance(getattr(self, flag), bool):
                raise ConfigurationError(f"{flag} must be True or False")
        if self.bind_object_location and not self.keyring.binds_encryption_context:
            raise ConfigurationError(
                "bind_object_location needs a keyring that binds an encryption context to the data key (KMS)"
            )
        if self.data_key_cache is not None:
            if not isinstance(self.data_key_cache, DataKeyCache):
                raise ConfigurationError("data_key_cache must be an s3crypt.DataKeyCache")
            if not self.algorithm_suite.is_committing:
                raise ConfigurationError(
                    "a data-key cache needs the V3 suite: with V2 the data key is the content key, so objects "
                    "sharing it would share a content key; drop data_key_cache or write V3"
                )
        if not isinstance(self.decrypt_memory_limit, int) or self.decrypt_memory_limit < 0:
            raise ConfigurationError("decrypt_memory_limit must be a non-negative number of bytes")
        if self.enable_delayed_authentication and not isinstance(self.decrypt_memory_limit, _DefaultLimit):
            raise ConfigurationError(
                "decrypt_memory_limit bounds the memory of authenticated reads, which delayed authentication "
                "does not use; set one or the other"
            )
