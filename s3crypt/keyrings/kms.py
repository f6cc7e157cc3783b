"""AWS KMS keyring: ``kms+context`` wrapping, one GenerateDataKey per new object and one Decrypt per read.

Like unwrapping (:mod:`s3crypt.keyrings.kms_base`), wrapping is split into a request, the reading of the
response and the error of a failed call, none of which do I/O: ``generate_request`` / ``data_key_from`` /
``generate_failed`` for GenerateDataKey, ``encrypt_request`` / ``encrypted_key_from`` / ``encrypt_failed`` for
Encrypt (key rotation).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Hashable, Iterable, Mapping
from typing import TYPE_CHECKING

from botocore.config import Config

from s3crypt.crypto.suites import AlgorithmSuite
from s3crypt.errors import ConfigurationError, EncryptionError
from s3crypt.format.context import RESERVED_KEY
from s3crypt.format.metadata import KMS_CONTEXT, EncryptedDataKey
from s3crypt.keyrings.base import DataKey
from s3crypt.keyrings.kms_base import BaseKmsKeyring, KmsRequest, KmsResponse, endpoint
from s3crypt.keyrings.kms_discovery import KmsDiscoveryKeyring
from s3crypt.keyrings.kms_errors import missing, reason

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

USER_AGENT = f"s3crypt/{importlib.metadata.version('s3crypt')}"
"""What s3crypt adds to the user agent of the KMS clients it creates (s3-kms-keyring.md: a SHOULD)."""


def with_user_agent(config: Config | None) -> Config:
    """``config`` (the S3 client's, or none) with s3crypt's user-agent suffix after any the caller set.

    Only KMS clients s3crypt creates get it: a ``kms_client`` the caller passed is theirs and stays as it is.
    """
    config = config or Config()
    extra = " ".join(part for part in (getattr(config, "user_agent_extra", None), USER_AGENT) if part)
    return config.merge(Config(user_agent_extra=extra))


class KmsKeyring(BaseKmsKeyring):
    """Wraps data keys under one KMS key, and unwraps them with it.

    Without ``kms_client``, each S3 client it is given to builds a KMS client from its own boto3 session,
    region and credentials, so boto3's configuration (profiles, ``AWS_ENDPOINT_URL_KMS``, ...) applies.
    """

    _refused_advice = "check that this is the key the object was written with and that you may use it"

    def __init__(self, key_id: str, kms_client: KMSClient | None = None) -> None:
        if not isinstance(key_id, str) or not key_id:
            raise ConfigurationError("key_id must be a KMS key id, key ARN, alias name or alias ARN")
        super().__init__(kms_client)
        self.key_id = key_id

    def __repr__(self) -> str:
        return f"KmsKeyring(key_id={self.key_id!r})"

    @classmethod
    def discovery(
        cls,
        kms_client: KMSClient | None = None,
        allowed_key_arns: Iterable[str] | None = None,
        allowed_accounts: Iterable[str] | None = None,
    ) -> KmsDiscoveryKeyring:
        """A keyring that decrypts data keys wrapped under any KMS key the caller may use, within the allow-lists.

        It cannot encrypt. With neither list, any key is accepted.
        """
        return KmsDiscoveryKeyring(kms_client, allowed_key_arns, allowed_accounts)

    def cache_identity(self) -> Hashable:
        return ("kms", self.key_id, *endpoint(self.kms_client))

    def generate_data_key(
        self, suite: AlgorithmSuite, encryption_context: Mapping[str, str], plaintext_length: int | None = None
    ) -> DataKey:
        request = self.generate_request(suite, encryption_context)
        return self.data_key_from(self._call(self._client().generate_data_key, request, self.generate_failed), request)

    def generate_request(self, suite: AlgorithmSuite, encryption_context: Mapping[str, str]) -> KmsRequest:
        """The parameters of KMS GenerateDataKey for a new data key of ``suite`` bound to ``encryption_context``."""
        return {"KeyId": self.key_id, "KeySpec": "AES_256", "EncryptionContext": _with_suite(encryption_context, suite)}

    def data_key_from(self, response: KmsResponse, request: KmsRequest) -> DataKey:
        """The data key in the response to GenerateDataKey ``request``; :class:`s3crypt.EncryptionError` if the
        response is incomplete."""
        if absent := missing(response, "Plaintext", "CiphertextBlob"):
            raise self._generate_error(absent)
        encrypted = EncryptedDataKey(KMS_CONTEXT, response["CiphertextBlob"], request["EncryptionContext"])
        return DataKey(response["Plaintext"], encrypted)

    def generate_failed(self, error: Exception) -> EncryptionError:
        """The error to raise when KMS GenerateDataKey raised ``error`` (a botocore error)."""
        return self._generate_error(reason(error))

    def wrap_data_key(
        self, data_key: bytes, suite: AlgorithmSuite, encryption_context: Mapping[str, str]
    ) -> EncryptedDataKey:
        request = self.encrypt_request(data_key, suite, encryption_context)
        return self.encrypted_key_from(self._call(self._client().encrypt, request, self.encrypt_failed), request)

    def encrypt_request(
        self, data_key: bytes, suite: AlgorithmSuite, encryption_context: Mapping[str, str]
    ) -> KmsRequest:
        """The parameters of KMS Encrypt wrapping ``data_key`` (an existing object's, for key rotation)."""
        return {
            "KeyId": self.key_id,
            "Plaintext": data_key,
            "EncryptionContext": _with_suite(encryption_context, suite),
        }

    def encrypted_key_from(self, response: KmsResponse, request: KmsRequest) -> EncryptedDataKey:
        """The wrapped key in the response to Encrypt ``request``; :class:`s3crypt.EncryptionError` if incomplete."""
        if absent := missing(response, "CiphertextBlob"):
            raise EncryptionError(f"KMS Encrypt with key {self.key_id!r} failed ({absent})")
        return EncryptedDataKey(KMS_CONTEXT, response["CiphertextBlob"], request["EncryptionContext"])

    def encrypt_failed(self, error: Exception) -> EncryptionError:
        """The error to raise when KMS Encrypt raised ``error`` (a botocore error)."""
        return EncryptionError(f"KMS Encrypt with key {self.key_id!r} failed ({reason(error)})")

    def decrypt_request(
        self, encrypted: EncryptedDataKey, suite: AlgorithmSuite, encryption_context: Mapping[str, str]
    ) -> KmsRequest:
        return {**super().decrypt_request(encrypted, suite, encryption_context), "KeyId": self.key_id}

    def _names_key(self) -> str:
        return f" with key {self.key_id!r}"

    def _generate_error(self, why: str) -> EncryptionError:
        return EncryptionError(f"KMS GenerateDataKey with key {self.key_id!r} failed ({why}); nothing was uploaded")


def _with_suite(encryption_context: Mapping[str, str], suite: AlgorithmSuite) -> dict[str, str]:
    """The context sent to KMS: the caller's plus the reserved entry naming the content algorithm."""
    return {**encryption_context, RESERVED_KEY: suite.context_value}
