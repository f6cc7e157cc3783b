"""What the KMS keyrings share: a KMS client, the checks of a stored ``kms+context`` key, unwrapping by Decrypt.

Each KMS call is split in three parts that do no I/O, so that the sync keyrings here and an asyncio shell
(awaiting the same call on an aiobotocore KMS client) make the same requests and read the responses the same way:
a request (``decrypt_request``: the parameters of the call, after the checks), the reading of the response
(``plaintext_from``), and the error a failed call raises (``decrypt_failed``). The sync keyrings call KMS between
them, in :meth:`BaseKmsKeyring._call`.
"""

from __future__ import annotations

import abc
import copy
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from s3crypt.crypto.suites import AlgorithmSuite
from s3crypt.errors import ConfigurationError, DecryptionError, FormatError, S3CryptError
from s3crypt.format.context import LEGACY_KEY_ID, LOCATION_KEY, RESERVED_KEY
from s3crypt.format.metadata import KMS_CONTEXT, LEGACY_KMS, EncryptedDataKey
from s3crypt.keyrings.base import ClientFactory, Keyring
from s3crypt.keyrings.kms_errors import KMS_ERRORS, RETRY_LATER, advice, missing, reason

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

KmsRequest = dict[str, Any]
"""The parameters of one KMS call, as a boto3 or aiobotocore KMS client takes them (``client.decrypt(**request)``)."""
KmsResponse = Mapping[str, Any]

_Bound = TypeVar("_Bound", bound="BaseKmsKeyring")


class BaseKmsKeyring(Keyring):
    """A keyring whose data keys KMS unwraps: :class:`KmsKeyring` (which also wraps) and
    :class:`KmsDiscoveryKeyring` (which only unwraps).

    Without ``kms_client``, each S3 client it is given to builds a KMS client from its own boto3 session,
    region and credentials, so boto3's configuration (profiles, ``AWS_ENDPOINT_URL_KMS``, ...) applies.
    """

    calls_kms = True
    binds_encryption_context = True
    _decrypt_fields: ClassVar[tuple[str, ...]] = ("Plaintext",)
    """What a Decrypt response must hold."""
    _refused_advice: ClassVar[str]
    """What to do when KMS refuses to decrypt."""

    def __init__(self, kms_client: KMSClient | None) -> None:
        self.kms_client = kms_client

    def bind(self: _Bound, client_factory: ClientFactory) -> _Bound:
        if self.kms_client is not None:
            return self
        bound = copy.copy(self)
        bound.kms_client = client_factory("kms")  # type: ignore[assignment]
        return bound

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
        request = self.decrypt_request(encrypted, suite, encryption_context)
        return self.plaintext_from(self._call(self._client().decrypt, request, self.decrypt_failed))

    def decrypt_request(
        self, encrypted: EncryptedDataKey, suite: AlgorithmSuite, encryption_context: Mapping[str, str]
    ) -> KmsRequest:
        """The parameters of KMS Decrypt for ``encrypted``, once :meth:`check` has admitted it for this read."""
        self.check(encrypted, suite, encryption_context)
        return {"CiphertextBlob": encrypted.ciphertext, "EncryptionContext": dict(encrypted.description)}

    def plaintext_from(self, response: KmsResponse) -> bytes:
        """The data key in a Decrypt response; :class:`s3crypt.DecryptionError` if the response is incomplete."""
        if absent := missing(response, *self._decrypt_fields):
            raise self._decrypt_error(absent, RETRY_LATER)
        plaintext: bytes = response["Plaintext"]
        return plaintext

    def decrypt_failed(self, error: Exception) -> DecryptionError:
        """The error to raise when KMS Decrypt raised ``error`` (a botocore error)."""
        return self._decrypt_error(reason(error), advice(error, self._refused_advice))

    @abc.abstractmethod
    def _names_key(self) -> str:
        """How errors name the key (``" with key 'alias/x'"``), or empty."""

    def _decrypt_error(self, why: str, what_to_do: str) -> DecryptionError:
        return DecryptionError(f"KMS could not decrypt the object's data key{self._names_key()} ({why}); {what_to_do}")

    def _client(self) -> KMSClient:
        if self.kms_client is None:
            raise ConfigurationError(
                f"this {type(self).__name__} has no KMS client; give it to s3crypt.client() or pass kms_client"
            )
        return self.kms_client

    @staticmethod
    def _call(
        method: Callable[..., Any], request: KmsRequest, failed: Callable[[Exception], S3CryptError]
    ) -> KmsResponse:
        """The response of one KMS call (the sync shell's I/O); ``failed(error)`` raised if it fails."""
        try:
            response: KmsResponse = method(**request)
        except KMS_ERRORS as error:
            raise failed(error) from error
        return response


def endpoint(kms_client: KMSClient | None) -> tuple[str | None, str | None]:
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


def _context_mismatch(stored: Mapping[str, str], given: Mapping[str, str]) -> str:
    if LOCATION_KEY in given and stored.get(LOCATION_KEY) != given[LOCATION_KEY]:
        bound_to = stored.get(LOCATION_KEY, "no location")
        return (
            f"the object is bound to {bound_to} but is read at {given[LOCATION_KEY]}: it was copied or moved "
            "there without s3crypt; copy it back, or rewrap it to its new location from where it was written"
        )
    missing_keys = sorted(stored.keys() - given.keys())
    extra = sorted(given.keys() - stored.keys())
    differ = sorted(k for k in stored.keys() & given.keys() if stored[k] != given[k])
    details = "; ".join(
        f"{label} {keys}"
        for label, keys in (
            ("missing keys", missing_keys),
            ("unexpected keys", extra),
            ("different values for", differ),
        )
        if keys
    )
    return (
        f"the EncryptionContext does not match the one the object was written with ({details}); "
        "pass exactly the context used when it was written"
    )
