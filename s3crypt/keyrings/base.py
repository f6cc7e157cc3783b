"""The keyring interface: generate a wrapped data key for a new object, unwrap the data key of a stored one."""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from s3crypt.crypto.suites import AlgorithmSuite
from s3crypt.format.metadata import EncryptedDataKey

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

    @abc.abstractmethod
    def generate_data_key(self, suite: AlgorithmSuite, encryption_context: Mapping[str, str]) -> DataKey:
        """A new 32-byte data key for one object, wrapped under this keyring."""

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

    def bind(self, client_factory: ClientFactory) -> Keyring:
        """This keyring, completed with clients it lacks, for use by one S3 client."""
        return self
