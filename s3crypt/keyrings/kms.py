"""AWS KMS keyring: ``kms+context`` wrapping, one GenerateDataKey per new object and one Decrypt per read."""

from __future__ import annotations

import copy
import importlib.metadata
from collections.abc import Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import botocore.exceptions
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from s3crypt.crypto.suites import AlgorithmSuite
from s3crypt.errors import ConfigurationError, DecryptionError, EncryptionError, FormatError
from s3crypt.format.context import LEGACY_KEY_ID, LOCATION_KEY, RESERVED_KEY
from s3crypt.format.metadata import KMS_CONTEXT, LEGACY_KMS, EncryptedDataKey
from s3crypt.keyrings.base import ClientFactory, DataKey, Keyring

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


class KmsKeyring(Keyring):
    """Wraps data keys under one KMS key.

    Without ``kms_client``, each S3 client it is given to builds a KMS client from its own boto3 session,
    region and credentials, so boto3's configuration (profiles, ``AWS_ENDPOINT_URL_KMS``, ...) applies.
    """

    calls_kms = True
    binds_encryption_context = True

    def __init__(self, key_id: str, kms_client: KMSClient | None = None) -> None:
        if not isinstance(key_id, str) or not key_id:
            raise ConfigurationError("key_id must be a KMS key id, key ARN, alias name or alias ARN")
        self.key_id = key_id
        self.kms_client = kms_client

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

    def bind(self, client_factory: ClientFactory) -> KmsKeyring:
        if self.kms_client is not None:
            return self
        bound = copy.copy(self)
        bound.kms_client = client_factory("kms")  # type: ignore[assignment]
        return bound

    def _client(self) -> KMSClient:
        if self.kms_client is None:
            raise ConfigurationError(
                "this KmsKeyring has no KMS client; give it to s3crypt.client() or pass kms_client"
            )
        return self.kms_client

    def generate_data_key(
        self, suite: AlgorithmSuite, encryption_context: Mapping[str, str], plaintext_length: int | None = None
    ) -> DataKey:
        context = _with_suite(encryption_context, suite)
        try:
            response = self._client().generate_data_key(KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=context)
        except (ClientError, BotoCoreError) as error:
            raise EncryptionError(
                f"KMS GenerateDataKey with key {self.key_id!r} failed ({_reason(error)}); nothing was uploaded"
            ) from error
        if missing := _missing(response, "Plaintext", "CiphertextBlob"):
            raise EncryptionError(
                f"KMS GenerateDataKey with key {self.key_id!r} failed ({missing}); nothing was uploaded"
            )
        return DataKey(response["Plaintext"], EncryptedDataKey(KMS_CONTEXT, response["CiphertextBlob"], context))

    def wrap_data_key(
        self, data_key: bytes, suite: AlgorithmSuite, encryption_context: Mapping[str, str]
    ) -> EncryptedDataKey:
        context = _with_suite(encryption_context, suite)
        try:
            response = self._client().encrypt(KeyId=self.key_id, Plaintext=data_key, EncryptionContext=context)
        except (ClientError, BotoCoreError) as error:
            raise EncryptionError(f"KMS Encrypt with key {self.key_id!r} failed ({_reason(error)})") from error
        if missing := _missing(response, "CiphertextBlob"):
            raise EncryptionError(f"KMS Encrypt with key {self.key_id!r} failed ({missing})")
        return EncryptedDataKey(KMS_CONTEXT, response["CiphertextBlob"], context)

    def check(self, encrypted: EncryptedDataKey, suite: AlgorithmSuite, encryption_context: Mapping[str, str]) -> None:
        if encrypted.wrapping_algorithm == LEGACY_KMS:
            _check_legacy(suite, encryption_context)
            return
        if encrypted.wrapping_algorithm != KMS_CONTEXT:
            raise FormatError(
                f"the object's data key is wrapped with {encrypted.wrapping_algorithm!r}, which a KmsKeyring "
                "cannot unwrap; use the keyring the object was written with"
            )
        stored = dict(encrypted.description)
        stored.pop(LEGACY_KEY_ID, None)  # s3-kms-keyring.md: both reserved keys are removed before comparing
        if stored.pop(RESERVED_KEY, None) != suite.context_value:
            raise DecryptionError(
                f"the object's encryption context names content algorithm "
                f"{encrypted.description.get(RESERVED_KEY)!r}, but the object is {suite.name}: its metadata was altered"
            )
        if stored != dict(encryption_context):
            raise DecryptionError(_context_mismatch(stored, encryption_context))

    def decrypt_data_key(
        self,
        encrypted: EncryptedDataKey,
        suite: AlgorithmSuite,
        encryption_context: Mapping[str, str],
    ) -> bytes:
        self.check(encrypted, suite, encryption_context)
        return self._decrypt(encrypted.ciphertext, dict(encrypted.description))

    def cache_identity(self) -> Hashable:
        return ("kms", self.key_id, *_endpoint(self.kms_client))

    def _decrypt(self, ciphertext: bytes, context: dict[str, str]) -> bytes:
        try:
            response = self._client().decrypt(CiphertextBlob=ciphertext, EncryptionContext=context, KeyId=self.key_id)
        except (ClientError, BotoCoreError) as error:
            advice = _advice(error, "check that this is the key the object was written with and that you may use it")
            raise DecryptionError(
                f"KMS could not decrypt the object's data key with key {self.key_id!r} ({_reason(error)}); {advice}"
            ) from error
        if missing := _missing(response, "Plaintext"):
            raise DecryptionError(
                f"KMS could not decrypt the object's data key with key {self.key_id!r} ({missing}); {_RETRY_LATER}"
            )
        plaintext: bytes = response["Plaintext"]
        return plaintext


class KmsDiscoveryKeyring(KmsKeyring):
    """Decrypts with whichever KMS key wrapped the data key, if the allow-lists admit it; cannot encrypt."""

    def __init__(
        self,
        kms_client: KMSClient | None = None,
        allowed_key_arns: Iterable[str] | None = None,
        allowed_accounts: Iterable[str] | None = None,
    ) -> None:
        self.key_id = "discovery"
        self.kms_client = kms_client
        if isinstance(allowed_key_arns, str) or isinstance(allowed_accounts, str):
            raise ConfigurationError("allowed_key_arns and allowed_accounts are lists of strings, not one string")
        self.allowed_key_arns = None if allowed_key_arns is None else frozenset(allowed_key_arns)
        self.allowed_accounts = None if allowed_accounts is None else frozenset(allowed_accounts)

    def cache_identity(self) -> Hashable:
        return ("kms-discovery", self.allowed_key_arns, self.allowed_accounts, *_endpoint(self.kms_client))

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

    def _decrypt(self, ciphertext: bytes, context: dict[str, str]) -> bytes:
        try:
            response = self._client().decrypt(CiphertextBlob=ciphertext, EncryptionContext=context)
        except (ClientError, BotoCoreError) as error:
            advice = _advice(error, "check that you may use the key it was written with")
            raise DecryptionError(
                f"KMS could not decrypt the object's data key ({_reason(error)}); {advice}"
            ) from error
        if missing := _missing(response, "KeyId", "Plaintext"):
            raise DecryptionError(f"KMS could not decrypt the object's data key ({missing}); {_RETRY_LATER}")
        key_arn = response["KeyId"]
        account = key_arn.split(":")[4] if key_arn.count(":") >= 5 else ""
        allowed = (self.allowed_key_arns is None or key_arn in self.allowed_key_arns) and (
            self.allowed_accounts is None or account in self.allowed_accounts
        )
        if not allowed:
            raise DecryptionError(f"the object's data key is wrapped under {key_arn}, which the allow-lists exclude")
        plaintext: bytes = response["Plaintext"]
        return plaintext


def _endpoint(kms_client: KMSClient | None) -> tuple[str | None, str | None]:
    """Where a KMS client sends its calls (region and endpoint), part of what a data-key cache files keys under."""
    if kms_client is None:
        return None, None
    return kms_client.meta.region_name, kms_client.meta.endpoint_url


def _check_legacy(suite: AlgorithmSuite, encryption_context: Mapping[str, str]) -> None:
    """A ``kms`` (V1) wrapped key binds no caller context: its stored context is the key id. So it opens only
    legacy CBC content and only for a read that expects no context; else a relabelled copy of another object
    would skip the context check (and ``bind_object_location``)."""
    if not suite.is_legacy:
        raise DecryptionError(
            f"the object's data key is wrapped with legacy 'kms', which clients wrote only beside AES-CBC content, "
            f"but the object is {suite.name}: its metadata was altered"
        )
    if encryption_context:
        raise DecryptionError(
            "the object's data key is wrapped with legacy 'kms', which binds no encryption context, so the "
            "EncryptionContext (or the location of a bind_object_location client) cannot be checked; read it "
            "without a context, with a client that does not bind locations"
        )


def _with_suite(encryption_context: Mapping[str, str], suite: AlgorithmSuite) -> dict[str, str]:
    """The context sent to KMS: the caller's plus the reserved entry naming the content algorithm."""
    return {**encryption_context, RESERVED_KEY: suite.context_value}


def _context_mismatch(stored: Mapping[str, str], given: Mapping[str, str]) -> str:
    if LOCATION_KEY in given and stored.get(LOCATION_KEY) != given[LOCATION_KEY]:
        bound_to = stored.get(LOCATION_KEY, "no location")
        return (
            f"the object is bound to {bound_to} but is read at {given[LOCATION_KEY]}: it was copied or moved "
            "there without s3crypt; copy it back, or rewrap it to its new location from where it was written"
        )
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


def _missing(response: Mapping[str, Any], *fields: str) -> str:
    """Which of ``fields``, which KMS always returns, a response lacks, as a reason; empty if none.

    botocore parses a KMS response whose body was cut short as an empty response, without raising.
    """
    absent = [name for name in fields if name not in response]
    return f"the response was incomplete: no {', '.join(absent)}" if absent else ""


_RETRY_LATER = "KMS was unreachable or busy and botocore's retries ran out: try again later"
_TRANSIENT_CODES = frozenset(
    {"ThrottlingException", "KMSInternalException", "DependencyTimeoutException", "LimitExceededException"}
)


def _advice(error: Exception, otherwise: str) -> str:
    """What to do after ``error``: try later if KMS failed for the moment (throttled, unavailable, unreachable),
    else ``otherwise``, since KMS refused the request."""
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        transient = error.response.get("Error", {}).get("Code") in _TRANSIENT_CODES or status >= 500
    else:
        transient = isinstance(error, (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError))
    return _RETRY_LATER if transient else otherwise


def _reason(error: Exception) -> str:
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return f"{info.get('Code', 'error')}: {info.get('Message', '')}".rstrip(": ")
    return str(error)
