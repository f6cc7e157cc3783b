"""The storage options of ``s3crypt://``: which are s3crypt's, how they key fsspec's instance cache, and the
form in which they travel to dask workers (pickled).

fsspec keys its cache of filesystems on ``str(kwargs)``, i.e. on each option's ``repr``. A raw keyring's repr
shows its material description only, so two keyrings with different keys would look alike: the keyring and
the data-key cache are left out of that key, and a secret-free identity of the keyring (a hash of what a
data-key cache files its keys under) takes their place.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization

from s3crypt._client import split_options
from s3crypt._config import EncryptionConfig
from s3crypt._keyrings.base import Keyring
from s3crypt._keyrings.cache import DataKeyCache
from s3crypt._keyrings.kms_base import BaseKmsKeyring
from s3crypt._keyrings.rsa import RsaKeyring

ENCRYPTION_OPTIONS = frozenset(field.name for field in dataclasses.fields(EncryptionConfig)) - {"keyring"}
"""The encryption options ``s3crypt.client`` takes beside ``keyring`` and ``kms_key_id``."""
UNTOKENIZED = ("keyring", "data_key_cache")
"""Options left out of fsspec's instance-cache key (their reprs do not tell them apart)."""
IDENTITY = "keyring_identity"
"""The option that stands for the keyring in that key."""


def keyring_identity(keyring: Any) -> str:
    """A name for ``keyring`` that tells keyrings apart without revealing a key."""
    if not isinstance(keyring, Keyring):
        return ""
    return hashlib.sha256(repr(keyring.cache_identity()).encode()).hexdigest()[:32]


def encryption_config(keyring: Keyring | None, kms_key_id: str | None, options: dict[str, Any]) -> EncryptionConfig:
    """The validated encryption options (raises :class:`s3crypt.ConfigurationError` when they are wrong)."""
    config, _ = split_options("s3", keyring, kms_key_id, options)
    return config


def portable(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` as they travel to another process: a KMS keyring without the KMS client it holds (each
    worker builds its own from its credentials), a data-key cache as its limits (each worker has its own,
    empty). A raw keyring travels with its key: an AES keyring as it is, an RSA keyring as PEM."""
    moved = dict(options)
    keyring = moved.get("keyring")
    if isinstance(keyring, BaseKmsKeyring) and keyring.kms_client is not None:
        keyring = copy.copy(keyring)
        keyring.kms_client = None
        moved["keyring"] = keyring
    if isinstance(keyring, RsaKeyring):
        moved["keyring"] = _PortableRsa.of(keyring)
    cache = moved.get("data_key_cache")
    if isinstance(cache, DataKeyCache):
        moved["data_key_cache"] = CacheLimits(
            cache.max_age_seconds, cache.max_messages, cache.max_bytes, cache.capacity
        )
    return moved


@dataclasses.dataclass(frozen=True)
class CacheLimits:
    """A data-key cache as it travels: its limits; each process that receives it builds its own cache."""

    max_age_seconds: float
    max_messages: int | None
    max_bytes: int | None
    capacity: int

    def build(self) -> DataKeyCache:
        return DataKeyCache(self.max_age_seconds, self.max_messages, self.max_bytes, self.capacity)


@dataclasses.dataclass(frozen=True)
class _PortableRsa:
    """An :class:`s3crypt.RsaKeyring` as it travels (cryptography's key objects do not pickle): its keys as PEM."""

    public_key: bytes
    private_key: bytes | None
    material_description: dict[str, str]
    require_matching_description: bool

    @classmethod
    def of(cls, keyring: RsaKeyring) -> _PortableRsa:
        public, private = keyring._public, keyring._private  # s3crypt's own keyring: no accessor of its keys
        assert public is not None
        return cls(
            public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
            None
            if private is None
            else private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            dict(keyring.material_description),
            keyring.require_matching_description,
        )

    def build(self) -> RsaKeyring:
        return RsaKeyring(
            self.public_key,
            self.private_key,
            self.material_description,
            require_matching_description=self.require_matching_description,
        )


def received(options: dict[str, Any]) -> dict[str, Any]:
    """Encryption options as given, or as they arrived from another process (see :func:`portable`)."""
    arrived = dict(options)
    if isinstance(arrived.get("data_key_cache"), Mapping):  # the limits, as dask can hash them: {"max_age_seconds": 60}
        arrived["data_key_cache"] = DataKeyCache(**arrived["data_key_cache"])
    for name in UNTOKENIZED:
        if isinstance(arrived.get(name), (CacheLimits, _PortableRsa)):
            arrived[name] = arrived[name].build()
    return arrived
