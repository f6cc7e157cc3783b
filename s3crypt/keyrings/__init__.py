"""Keyrings wrap and unwrap the per-object data key."""

from s3crypt.format.metadata import EncryptedDataKey
from s3crypt.keyrings.aes import AesKeyring
from s3crypt.keyrings.base import DataKey, Keyring, RawKeyring
from s3crypt.keyrings.kms import KmsKeyring
from s3crypt.keyrings.kms_base import BaseKmsKeyring
from s3crypt.keyrings.kms_discovery import KmsDiscoveryKeyring
from s3crypt.keyrings.rsa import RsaKeyring

__all__ = [
    "AesKeyring",
    "BaseKmsKeyring",
    "DataKey",
    "EncryptedDataKey",
    "Keyring",
    "KmsDiscoveryKeyring",
    "KmsKeyring",
    "RawKeyring",
    "RsaKeyring",
]
