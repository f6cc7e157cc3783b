"""The first handler of every S3 call: applies the operation table before any other s3crypt handler runs.

It refuses what the table refuses, fails closed on an operation the table does not know, refuses the
parameters that would harm an encrypted object, and keeps presigned URLs free of s3crypt's own parameters
(a presigned URL is not encrypted: boto3 would reject a parameter it does not know, and so do we).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore import xform_name

from s3crypt.errors import ConfigurationError
from s3crypt.operations.table import OPERATIONS, Kind

if TYPE_CHECKING:
    from botocore.hooks import BaseEventHooks
    from botocore.model import ServiceModel

S3CRYPT_PARAMETERS = ("EncryptionContext", "InstructionFile", "InstructionFileSuffix", "IsLastPart")
"""The parameters s3crypt adds to S3 operations, which S3 itself does not know."""

# Parameters S3 accepts that would harm an encrypted object, by operation.
_REFUSED_PARAMETERS = {
    "PutObject": {
        "WriteOffsetBytes": "appending to an object would put bytes after its authentication tag; write a new "
        "object instead",
    },
    "CompleteMultipartUpload": {
        "MpuObjectSize": "the stored object is the ciphertext, which is longer than the plaintext; leave it out",
    },
}


def guard(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    """``provide-client-params`` of every operation, registered first."""
    name = model.name
    if context.get("is_presign_request"):
        _check_presign(name, params)
        return
    operation = OPERATIONS.get(name)
    if operation is None:
        if "Key" in params:
            raise ConfigurationError(
                f"{xform_name(name)} is an S3 operation this version of s3crypt does not know, so it cannot tell "
                "what it would do to an encrypted object; use a plain boto3 client for it"
            )
        return
    if operation.kind is Kind.REFUSED:
        raise ConfigurationError(f"{xform_name(name)} is refused on an encrypting client: {operation.why}")
    for parameter, why in _REFUSED_PARAMETERS.get(name, {}).items():
        if parameter in params:
            raise ConfigurationError(f"{xform_name(name)} with {parameter} is refused on an encrypting client: {why}")
    if name == "RestoreObject" and "SelectParameters" in (params.get("RestoreRequest") or {}):
        raise ConfigurationError(
            "restore_object with SelectParameters is refused on an encrypting client: S3 would query the "
            "ciphertext; restore the object without them, then get it and filter locally"
        )


def _check_presign(name: str, params: dict[str, Any]) -> None:
    given = [parameter for parameter in S3CRYPT_PARAMETERS if parameter in params]
    if given:
        raise ConfigurationError(
            f"generate_presigned_url for {xform_name(name)} cannot take {given}: a presigned URL is used without "
            "s3crypt, so a GET returns the ciphertext and a PUT stores its body unencrypted"
        )


def register(events: BaseEventHooks, service_model: ServiceModel) -> None:
    for name in service_model.operation_names:
        events.register_first(f"provide-client-params.s3.{name}", guard)
