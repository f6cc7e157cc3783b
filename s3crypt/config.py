"""The encryption options of one client, validated once when the client is created."""

from __future__ import annotations

from dataclasses import dataclass

from s3crypt.crypto.streams import DEFAULT_SPOOL_MEMORY
from s3crypt.crypto.suites import AlgorithmSuite, CommitmentPolicy
from s3crypt.errors import ConfigurationError
from s3crypt.keyrings.base import Keyring


@dataclass(frozen=True)
class EncryptionConfig:
    """Immutable, so one client can be shared between threads."""

    keyring: Keyring
    algorithm_suite: AlgorithmSuite = AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY
    commitment_policy: CommitmentPolicy = CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    spool_memory_limit: int = DEFAULT_SPOOL_MEMORY

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
            raise ConfigurationError(
                f"{self.algorithm_suite.name} is a legacy suite: s3crypt can read it (opt-in) but never writes it"
            )
        if not self.commitment_policy.may_encrypt(self.algorithm_suite):
            hint = (
                "use commitment_policy=CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT to write V2 objects"
                if not self.algorithm_suite.is_committing
                else "use the V3 suite ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY"
            )
            raise ConfigurationError(
                f"algorithm_suite {self.algorithm_suite.name} contradicts "
                f"commitment_policy {self.commitment_policy.name}: {hint}"
            )
        if not isinstance(self.spool_memory_limit, int) or self.spool_memory_limit < 0:
            raise ConfigurationError("spool_memory_limit must be a non-negative number of bytes")
