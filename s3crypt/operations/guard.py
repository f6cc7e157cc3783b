"""Operations that would store plaintext through an encrypting client are refused until they encrypt."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from s3crypt.errors import ConfigurationError

if TYPE_CHECKING:
    from botocore.hooks import BaseEventHooks

    from s3crypt.config import EncryptionConfig

_UNENCRYPTED_UPLOADS = ("CreateMultipartUpload", "UploadPart")


def refuse(model: Any, **_: Any) -> None:
    raise ConfigurationError(
        f"{model.name} is not encrypted by this version of s3crypt, and an encrypting client never "
        "uploads plaintext: use put_object, or a plain boto3 client for data that needs no encryption"
    )


def register(events: BaseEventHooks, config: EncryptionConfig) -> None:
    for operation in _UNENCRYPTED_UPLOADS:
        events.register(f"provide-client-params.s3.{operation}", refuse)
