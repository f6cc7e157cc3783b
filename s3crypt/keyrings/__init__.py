"""Keyrings wrap and unwrap the per-object data key."""

from s3crypt.format.metadata import EncryptedDataKey
from s3crypt.keyrings.base import DataKey, Keyring
from s3crypt.keyrings.kms import KmsKeyring

__all__ = ["DataKey", "EncryptedDataKey", "Keyring", "KmsKeyring"]
