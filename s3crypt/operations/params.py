"""Per-call parameters s3crypt adds to S3 operations, taken out before botocore validates the call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from s3crypt.format.context import bound, validate_user_context

if TYPE_CHECKING:
    from s3crypt.config import EncryptionConfig

CONTEXT_KEY = "s3crypt"
RAW = "_s3crypt_raw"
"""A private parameter of s3crypt's own calls: send or return the object's bytes untouched."""


def take_raw(params: dict[str, Any], context: dict[str, Any]) -> bool:
    """Whether this is one of s3crypt's own raw calls, or a presigned URL, which s3crypt leaves as boto3 makes
    it (and mark it so in the request context)."""
    raw = bool(params.pop(RAW, False)) or bool(context.get("is_presign_request"))
    call_state(context)["raw"] = raw
    return raw


def take_encryption_context(config: EncryptionConfig, params: dict[str, Any], context: dict[str, Any]) -> None:
    """Move ``EncryptionContext`` from the call's parameters into its request context, validated (and bound to
    the object's bucket and key when the client binds objects to their location)."""
    call_state(context)["encryption_context"] = encryption_context_for(
        config, params.pop("EncryptionContext", None), params.get("Bucket", ""), params.get("Key", "")
    )


def encryption_context_for(config: EncryptionConfig, given: Any, bucket: str, key: str) -> dict[str, str]:
    """The context to use for the object at ``bucket``/``key``: the caller's, with its location if bound."""
    user_context = validate_user_context(given)
    return bound(user_context, bucket, key) if config.bind_object_location else user_context


def call_state(context: dict[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] = context.setdefault(CONTEXT_KEY, {})
    return state
