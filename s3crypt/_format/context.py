"""Encryption contexts and material descriptions: validation and their JSON form in metadata."""

from __future__ import annotations

import email.errors
import email.header
import json
from collections.abc import Mapping
from typing import Any

from s3crypt._errors import ConfigurationError, FormatError

RESERVED_KEY = "aws:x-amz-cek-alg"
LEGACY_KEY_ID = "kms_cmk_id"
"""The other reserved context key: V1 clients stored the KMS key id under it."""
RESERVED_PREFIX = "aws:"
LOCATION_KEY = "s3crypt:location"
"""The encryption-context entry that binds an object to its bucket and key (``bind_object_location``)."""


def location(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def bound(context: dict[str, str], bucket: str, key: str) -> dict[str, str]:
    """``context`` with the entry naming the object's location; the caller may not set that entry itself."""
    if LOCATION_KEY in context:
        raise ConfigurationError(
            f"EncryptionContext key {LOCATION_KEY!r} is set by s3crypt when the client binds objects to their "
            "location; leave it out"
        )
    return {**context, LOCATION_KEY: location(bucket, key)}


def validate_user_context(context: Any) -> dict[str, str]:
    """The caller's ``EncryptionContext`` as a dict, or :class:`ConfigurationError` saying what is wrong."""
    if context is None:
        return {}
    if not isinstance(context, Mapping):
        raise ConfigurationError(f"EncryptionContext must be a dict of str to str, not {type(context).__name__}")
    for key, value in context.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ConfigurationError(f"EncryptionContext must map str to str; the entry {key!r}: {value!r} does not")
        if not key:
            raise ConfigurationError("EncryptionContext keys must not be empty")
        if key.startswith(RESERVED_PREFIX):
            raise ConfigurationError(
                f"EncryptionContext key {key!r} is reserved: keys starting with {RESERVED_PREFIX!r} belong to "
                "AWS and to the format; rename it"
            )
    return dict(context)


def encode_json(mapping: Mapping[str, str]) -> str:
    """Compact JSON with non-ASCII escaped, so the metadata value stays US-ASCII and S3 stores it verbatim."""
    return json.dumps(dict(mapping), separators=(",", ":"), ensure_ascii=True)


def decode_json(value: str, what: str) -> dict[str, str]:
    """Parse a stored JSON object of strings."""
    try:
        parsed = json.loads(value)
    except ValueError:
        raise FormatError(f"the object's {what} is not valid JSON") from None
    if not isinstance(parsed, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()):
        raise FormatError(f"the object's {what} is not a JSON object of strings")
    return parsed


def decode_rfc2047(value: str) -> str:
    """Undo S3's "double encoding" of non-ASCII metadata (``metadata-strategy.md``), as AWS's Java client does.

    S3 reads the UTF-8 bytes a writer sent as ISO-8859-1 characters, and returns those RFC 2047-encoded
    (``=?UTF-8?B?...?=``). So: MIME-decode, then take the characters back to bytes as ISO-8859-1 and read the
    bytes as UTF-8. A step that does not apply leaves the value as it is, for the parser of that value to refuse.
    """
    decoded = _mime_decoded(value) if "=?" in value else value
    if decoded.isascii():
        return decoded
    try:
        return decoded.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return decoded


def _mime_decoded(value: str) -> str:
    try:
        return "".join(
            text.decode(charset or "ascii") if isinstance(text, bytes) else text
            for text, charset in email.header.decode_header(value)
        )
    except (email.errors.HeaderParseError, UnicodeDecodeError, LookupError):
        return value
