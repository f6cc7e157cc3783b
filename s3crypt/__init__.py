"""s3crypt: client-side encryption for Amazon S3 as a one-line change to boto3.

>>> s3 = s3crypt.client("s3", kms_key_id="alias/my-key")
>>> s3.put_object(Bucket="b", Key="k", Body=b"secret", EncryptionContext={"tenant": "42"})
>>> s3.get_object(Bucket="b", Key="k", EncryptionContext={"tenant": "42"})["Body"].read()
b'secret'

The public API is what ``__all__`` names (and the ``s3crypt.testing`` helpers and the ``s3crypt`` command); the
modules behind it are the implementation, free to change.
"""

from s3crypt import redaction
from s3crypt._client import EncryptionClient, Session, client, resource
from s3crypt.config import EncryptionConfig
from s3crypt.crypto.suites import AlgorithmSuite, CommitmentPolicy
from s3crypt.errors import (
    ConfigurationError,
    DecryptionError,
    EncryptionError,
    FormatError,
    InvalidParameterError,
    NotEncryptedError,
    S3CryptError,
)
from s3crypt.keyrings import (
    AesKeyring,
    DataKey,
    EncryptedDataKey,
    Keyring,
    KmsDiscoveryKeyring,
    KmsKeyring,
    RawKeyring,
    RsaKeyring,
)
from s3crypt.keyrings.cache import DataKeyCache, Stats

__version__ = "0.1.0"

redaction.install()

__all__ = [
    "AesKeyring",
    "AlgorithmSuite",
    "CommitmentPolicy",
    "ConfigurationError",
    "DataKey",
    "DataKeyCache",
    "DecryptionError",
    "EncryptedDataKey",
    "EncryptionClient",
    "EncryptionConfig",
    "EncryptionError",
    "FormatError",
    "InvalidParameterError",
    "Keyring",
    "KmsDiscoveryKeyring",
    "KmsKeyring",
    "NotEncryptedError",
    "RawKeyring",
    "RsaKeyring",
    "S3CryptError",
    "Session",
    "Stats",
    "__version__",
    "client",
    "resource",
]
