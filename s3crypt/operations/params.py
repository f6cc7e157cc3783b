"""Per-call parameters s3crypt adds to S3 operations, taken out before botocore validates the call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from s3crypt.format.context import bound, validate_user_context

if TYPE_CHECKING:
    from s3crypt.config import EncryptionConfig


def take_encryption_context(config: EncryptionConfig, params: dict[str, Any]) -> dict[str, str]:
    """Take ``EncryptionContext`` out of the call's parameters, validated (and bound to the object's bucket and
    key when the client binds objects to their location)."""
    return encryption_context_for(config, params.pop("EncryptionContext", None), *location(params))


def encryption_context_for(config: EncryptionConfig, given: Any, bucket: str, key: str) -> dict[str, str]:
    """The context to use for the object at ``bucket``/``key``: the caller's, with its location if bound."""
    user_context = validate_user_context(given)
    return bound(user_context, bucket, key) if config.bind_object_location else user_context


def location(params: dict[str, Any]) -> tuple[str, str]:
    """The call's bucket and key; empty when missing (botocore's validation, after the handlers, refuses it)."""
    return params.get("Bucket", ""), params.get("Key", "")
