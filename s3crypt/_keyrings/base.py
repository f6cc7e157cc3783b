"""The keyring interface: generate a wrapped data key for a new object, unwrap the data key of a stored one."""

from __future__ import annotations

import abc
import hashlib
import os
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from s3crypt._crypto.suites import DATA_KEY_LENGTH, AlgorithmSuite
from s3crypt._errors import ConfigurationError, DecryptionError, FormatError
from s3crypt._format.metadata import EncryptedDataKey

if TYPE_CHECKING:
    from botocore.client import BaseClient

ClientFactory = Callable[[str], "BaseClient"]
"""Builds a boto3 client for a service name from the S3 client's session, region and credentials."""


@dataclass(frozen=True)
class DataKey:
    """A fresh data key: its plaintext (never shown by ``repr``) and its wrapped form."""

    plaintext: bytes = field(repr=False)
    encrypted: EncryptedDataKey


class Keyring(abc.ABC):
    """Wraps and unwraps data keys. Implementations must be safe to share between threads."""

    calls_kms: ClassVar[bool] = False
    """Whether wrapping and unwrapping call AWS KMS (counted in a client's :class:`s3crypt.Stats`)."""
    binds_encryption_context: ClassVar[bool] = False
    """Whether the wrapped key is bound to the encryption context (only then can a context be checked)."""

    def generate_data_key(
        self, suite: AlgorithmSuite, encryption_context: Mapping[str, str], plaintext_length: int | None = None
    ) -> DataKey:
        """A new 32-byte data key for one object, wrapped under this keyring.

        ``plaintext_length`` is the object's size when known; keyrings may ignore it (a data-key cache counts it).
        """
        data_key = os.urandom(DATA_KEY_LENGTH)
        return DataKey(data_key, self.wrap_data_key(data_key, suite, encryption_context))

    @abc.abstractmethod
    def wrap_data_key(
        self, data_key: bytes, suite: AlgorithmSuite, encryption_context: Mapping[str, str]
    ) -> EncryptedDataKey:
        """``data_key`` (new, or an existing object's, for key rotation) wrapped under this keyring."""

    @abc.abstractmethod
    def decrypt_data_key(
        self,
        encrypted: EncryptedDataKey,
        suite: AlgorithmSuite,
        encryption_context: Mapping[str, str],
    ) -> bytes:
        """The plaintext data key of a stored object; raises :class:`s3crypt.DecryptionError`.

        ``encryption_context`` is what the caller passed for this request, to be checked against the stored one.
        """

    @abc.abstractmethod
    def check(self, encrypted: EncryptedDataKey, suite: AlgorithmSuite, encryption_context: Mapping[str, str]) -> None:
        """Refuse a stored key this keyring must not unwrap for this request, without unwrapping it.

        :meth:`decrypt_data_key` runs it too; a data-key cache runs it for every object, cached key or not.
        """

    def cache_identity(self) -> Hashable:
        """What a data-key cache files this keyring's keys under; keyrings equal in it share cached keys."""
        return (type(self).__name__, id(self))

    def bind(self, client_factory: ClientFactory) -> Keyring:
        """This keyring, completed with clients it lacks, for use by one S3 client."""
        return self


class RawKeyring(Keyring):
    """A keyring that wraps data keys locally (AES, RSA): it stores a material description, and no
    encryption context, since only KMS binds one to the wrapped key."""

    wrapping_algorithm: ClassVar[str]

    def __init__(self, material_description: Mapping[str, str] | None, require_matching_description: bool) -> None:
        description = dict(material_description or {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in description.items()):
            raise ConfigurationError("material_description must map str to str")
        self.material_description = description
        self.require_matching_description = bool(require_matching_description)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(material_description={self.material_description!r})"

    def wrap_data_key(
        self, data_key: bytes, suite: AlgorithmSuite, encryption_context: Mapping[str, str]
    ) -> EncryptedDataKey:
        _refuse_context(encryption_context)
        return EncryptedDataKey(self.wrapping_algorithm, self._wrap(data_key, suite), dict(self.material_description))

    def check(self, encrypted: EncryptedDataKey, suite: AlgorithmSuite, encryption_context: Mapping[str, str]) -> None:
        _refuse_context(encryption_context)
        if self.require_matching_description and dict(encrypted.description) != self.material_description:
            raise DecryptionError(
                f"the object's material description {dict(encrypted.description)!r} is not this keyring's "
                f"{self.material_description!r}"
            )

    def decrypt_data_key(
        self,
        encrypted: EncryptedDataKey,
        suite: AlgorithmSuite,
        encryption_context: Mapping[str, str],
    ) -> bytes:
        self.check(encrypted, suite, encryption_context)
        data_key = self._unwrap(encrypted, suite)
        if len(data_key) != DATA_KEY_LENGTH:
            raise DecryptionError("the unwrapped data key is not 32 bytes long: the wrapped key was altered")
        return data_key

    @abc.abstractmethod
    def _wrap(self, data_key: bytes, suite: AlgorithmSuite) -> bytes:
        """The wrapped form of ``data_key``."""

    @abc.abstractmethod
    def _unwrap(self, encrypted: EncryptedDataKey, suite: AlgorithmSuite) -> bytes:
        """The data key, or :class:`DecryptionError`."""

    def _wrong_keyring(self, encrypted: EncryptedDataKey) -> FormatError:
        return FormatError(
            f"the object's data key is wrapped with {encrypted.wrapping_algorithm!r}, which a "
            f"{type(self).__name__} cannot unwrap; use the keyring the object was written with"
        )


def _refuse_context(encryption_context: Mapping[str, str]) -> None:
    if encryption_context:
        raise ConfigurationError(
            "an EncryptionContext needs a KMS keyring, which binds it to the data key; raw AES and RSA keyrings "
            "store a material_description instead"
        )


def fingerprint(secret: bytes) -> str:
    """A name for key material in a cache identity: a hash, so the cache never holds the material itself."""
    return hashlib.sha256(b"s3crypt cache identity" + secret).hexdigest()
