"""The KMS discovery keyring: unwraps with whichever KMS key wrapped the data key, if the allow-lists admit it.

It is a sibling of :class:`s3crypt.KmsKeyring`, not a kind of it: it names no key, so it cannot wrap.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import TYPE_CHECKING

from s3crypt.crypto.suites import AlgorithmSuite
from s3crypt.errors import ConfigurationError, DecryptionError
from s3crypt.format.metadata import EncryptedDataKey
from s3crypt.keyrings.base import DataKey
from s3crypt.keyrings.kms_base import BaseKmsKeyring, KmsResponse, endpoint

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient


class KmsDiscoveryKeyring(BaseKmsKeyring):
    """Decrypts with whichever KMS key wrapped the data key, if the allow-lists admit it; cannot encrypt.

    Build it with :meth:`s3crypt.KmsKeyring.discovery`.
    """

    _decrypt_fields = ("KeyId", "Plaintext")
    _refused_advice = "check that you may use the key it was written with"

    def __init__(
        self,
        kms_client: KMSClient | None = None,
        allowed_key_arns: Iterable[str] | None = None,
        allowed_accounts: Iterable[str] | None = None,
    ) -> None:
        if isinstance(allowed_key_arns, str) or isinstance(allowed_accounts, str):
            raise ConfigurationError("allowed_key_arns and allowed_accounts are lists of strings, not one string")
        super().__init__(kms_client)
        self.allowed_key_arns = None if allowed_key_arns is None else frozenset(allowed_key_arns)
        self.allowed_accounts = None if allowed_accounts is None else frozenset(allowed_accounts)

    def cache_identity(self) -> Hashable:
        return ("kms-discovery", self.allowed_key_arns, self.allowed_accounts, *endpoint(self.kms_client))

    def __repr__(self) -> str:
        return (
            f"KmsKeyring.discovery(allowed_key_arns={self.allowed_key_arns!r}, "
            f"allowed_accounts={self.allowed_accounts!r})"
        )

    def generate_data_key(
        self, suite: AlgorithmSuite, encryption_context: Mapping[str, str], plaintext_length: int | None = None
    ) -> DataKey:
        raise ConfigurationError("a KMS discovery keyring only decrypts: write with KmsKeyring(key_id)")

    def wrap_data_key(
        self, data_key: bytes, suite: AlgorithmSuite, encryption_context: Mapping[str, str]
    ) -> EncryptedDataKey:
        raise ConfigurationError("a KMS discovery keyring only decrypts: wrap with KmsKeyring(key_id)")

    def plaintext_from(self, response: KmsResponse) -> bytes:
        """The data key in a Decrypt response, if the allow-lists admit the key KMS unwrapped it with."""
        plaintext = super().plaintext_from(response)
        key_arn = response["KeyId"]
        account = key_arn.split(":")[4] if key_arn.count(":") >= 5 else ""
        allowed = (self.allowed_key_arns is None or key_arn in self.allowed_key_arns) and (
            self.allowed_accounts is None or account in self.allowed_accounts
        )
        if not allowed:
            raise DecryptionError(f"the object's data key is wrapped under {key_arn}, which the allow-lists exclude")
        return plaintext

    def _names_key(self) -> str:
        return ""
