"""AWS KMS keyring: ``kms+context`` wrapping, one GenerateDataKey per new object and one Decrypt per read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from s3crypt.crypto.suites import AlgorithmSuite
from s3crypt.errors import ConfigurationError, DecryptionError, EncryptionError, FormatError
from s3crypt.format.context import RESERVED_KEY
from s3crypt.format.metadata import KMS_CONTEXT, EncryptedDataKey
from s3crypt.keyrings.base import ClientFactory, DataKey, Keyring

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient


class KmsKeyring(Keyring):
    """Wraps data keys under one KMS key.

    Without ``kms_client``, each S3 client it is given to builds a KMS client from its own boto3 session,
    region and credentials, so boto3's configuration (profiles, ``AWS_ENDPOINT_URL_KMS``, ...) applies.
    """

    def __init__(self, key_id: str, kms_client: KMSClient | None = None) -> None:
        if not isinstance(key_id, str) or not key_id:
            raise ConfigurationError("key_id must be a KMS key id, key ARN, alias name or alias ARN")
        self.key_id = key_id
        self.kms_client = kms_client

    def __repr__(self) -> str:
        return f"KmsKeyring(key_id={self.key_id!r})"

    def bind(self, client_factory: ClientFactory) -> KmsKeyring:
        return self if self.kms_client is not None else KmsKeyring(self.key_id, client_factory("kms"))  # type: ignore[arg-type]

    def _client(self) -> KMSClient:
        if self.kms_client is None:
            raise ConfigurationError(
                "this KmsKeyring has no KMS client; give it to s3crypt.client() or pass kms_client"
            )
        return self.kms_client

    def generate_data_key(self, suite: AlgorithmSuite, encryption_context: Mapping[str, str]) -> DataKey:
        context = {**encryption_context, RESERVED_KEY: suite.context_value}
        try:
            response = self._client().generate_data_key(KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=context)
        except (ClientError, BotoCoreError) as error:
            raise EncryptionError(
                f"KMS GenerateDataKey with key {self.key_id!r} failed ({_reason(error)}); nothing was uploaded"
            ) from error
        return DataKey(response["Plaintext"], EncryptedDataKey(KMS_CONTEXT, response["CiphertextBlob"], context))

    def decrypt_data_key(
        self,
        encrypted: EncryptedDataKey,
        suite: AlgorithmSuite,
        encryption_context: Mapping[str, str],
    ) -> bytes:
        if encrypted.wrapping_algorithm != KMS_CONTEXT:
            raise FormatError(
                f"the object's data key is wrapped with {encrypted.wrapping_algorithm!r}, which a KmsKeyring "
                "cannot unwrap; use the keyring the object was written with"
            )
        stored = dict(encrypted.description)
        if stored.get(RESERVED_KEY) != suite.context_value:
            raise DecryptionError(
                f"the object's encryption context names content algorithm {stored.get(RESERVED_KEY)!r}, but "
                f"the object is {suite.name}: its metadata was altered"
            )
        del stored[RESERVED_KEY]
        if stored != dict(encryption_context):
            raise DecryptionError(_context_mismatch(stored, encryption_context))
        try:
            response = self._client().decrypt(
                CiphertextBlob=encrypted.ciphertext,
                EncryptionContext=dict(encrypted.description),
                KeyId=self.key_id,
            )
        except (ClientError, BotoCoreError) as error:
            raise DecryptionError(
                f"KMS could not decrypt the object's data key with key {self.key_id!r} ({_reason(error)}); "
                "check that this is the key the object was written with and that you may use it"
            ) from error
        plaintext: bytes = response["Plaintext"]
        return plaintext


def _context_mismatch(stored: Mapping[str, str], given: Mapping[str, str]) -> str:
    missing = sorted(stored.keys() - given.keys())
    extra = sorted(given.keys() - stored.keys())
    differ = sorted(k for k in stored.keys() & given.keys() if stored[k] != given[k])
    details = "; ".join(
        f"{label} {keys}"
        for label, keys in (
            ("missing keys", missing),
            ("unexpected keys", extra),
            ("different values for", differ),
        )
        if keys
    )
    return (
        f"the EncryptionContext does not match the one the object was written with ({details}); "
        "pass exactly the context used when it was written"
    )


def _reason(error: Exception) -> str:
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return f"{info.get('Code', 'error')}: {info.get('Message', '')}".rstrip(": ")
    return str(error)
