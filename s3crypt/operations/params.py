"""Per-call parameters s3crypt adds to S3 operations, taken out before botocore validates the call."""

from __future__ import annotations

from typing import Any

from s3crypt.format.context import validate_user_context

CONTEXT_KEY = "s3crypt"
RAW = "_s3crypt_raw"
"""A private parameter of s3crypt's own calls: send or return the object's bytes untouched."""


def take_raw(params: dict[str, Any], context: dict[str, Any]) -> bool:
    """Whether this is one of s3crypt's own raw calls (and mark it so in the request context)."""
    raw = bool(params.pop(RAW, False))
    call_state(context)["raw"] = raw
    return raw


def take_encryption_context(params: dict[str, Any], context: dict[str, Any]) -> None:
    """Move ``EncryptionContext`` from the call's parameters into its request context, validated."""
    call_state(context)["encryption_context"] = validate_user_context(params.pop("EncryptionContext", None))


def call_state(context: dict[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] = context.setdefault(CONTEXT_KEY, {})
    return state
