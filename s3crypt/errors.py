"""Every error s3crypt raises derives from :class:`S3CryptError`.

S3's own errors (``botocore.exceptions.ClientError`` and its modelled subclasses such as
``client.exceptions.NoSuchKey``) are never wrapped: they reach the caller exactly as from boto3.
"""

from __future__ import annotations


class S3CryptError(Exception):
    """Base class of all s3crypt errors."""


class ConfigurationError(S3CryptError, ValueError):
    """An option or a per-call parameter is invalid; nothing was sent to S3 or KMS."""


class EncryptionError(S3CryptError):
    """An object could not be encrypted (for example KMS refused to generate a data key)."""


class DecryptionError(S3CryptError):
    """An object could not be decrypted or authenticated; no plaintext was released.

    Raised for a wrong key, a tampered body or metadata, a key-commitment mismatch or an
    encryption context that does not match the one the object was written with.
    """


class FormatError(DecryptionError):
    """The object's crypto metadata is missing, malformed or of a format this client does not accept."""


class NotEncryptedError(FormatError):
    """The object carries no client-side encryption metadata at all."""
