"""Keyrings wrap and unwrap the per-object data key."""

from s3crypt.format.metadata import EncryptedDataKey
from s3crypt.keyrings.aes import AesKeyring
from s3crypt.keyrings.base import DataKey, Keyring, RawKeyring
from s3crypt.keyrings.kms import KmsDiscoveryKeyring, KmsKeyring
from s3crypt.keyrings.rsa import RsaKeyring

__all__ = [
    "AesKeyring",
    "DataKey",
    "EncryptedDataKey",
    "Keyring",
    "KmsDiscoveryKeyring",
    "KmsKeyring",
    "RawKeyring",
    "RsaKeyring",
]
