"""Every error s3crypt raises derives from :class:`S3CryptError`.

S3's own errors (``botocore.exceptions.ClientError`` and its modelled subclasses such as
``client.exceptions.NoSuchKey``) are never wrapped: they reach the caller exactly as from boto3.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ParamValidationError


class S3CryptError(Exception):
    """Base class of all s3crypt errors."""


class ConfigurationError(S3CryptError, ValueError):
    """An option or a per-call parameter is invalid; nothing was sent to S3 or KMS."""


class InvalidParameterError(ConfigurationError, ParamValidationError):
    """A parameter has a type s3crypt cannot encrypt (a file opened in text mode, a stream yielding ``str``, ...).

    It is also botocore's ``ParamValidationError``, which boto3 raises for a parameter of the wrong type, so
    code written for boto3 catches it where it did; its message has botocore's form and names the parameter.
    """

    def __init__(self, parameter: str, value: Any, valid: str) -> None:
        report = f"Invalid type for parameter {parameter}, value: {value!r}, type: {type(value)}, valid types: {valid}"
        ParamValidationError.__init__(self, report=report)


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
