"""The operation table applied to one call, before any other s3crypt handler runs: refuse what the table
refuses, fail closed on an operation it does not know, refuse the parameters that would harm an encrypted
object, and keep presigned URLs free of s3crypt's own parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from s3crypt.core.table import OPERATIONS, Kind
from s3crypt.errors import ConfigurationError

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


def check_call(name: str, params: Mapping[str, Any], method: str) -> None:
    """Refuse a call of operation ``name`` (the client's method ``method``) the operation table refuses, with
    parameters that would harm an encrypted object, or of an operation the table does not know."""
    operation = OPERATIONS.get(name)
    if operation is None:
        if "Key" in params:
            raise ConfigurationError(
                f"{method} is an S3 operation this version of s3crypt does not know, so it cannot tell "
                "what it would do to an encrypted object; use a plain boto3 client for it"
            )
        return
    if operation.kind is Kind.REFUSED:
        raise ConfigurationError(f"{method} is refused on an encrypting client: {operation.why}")
    for parameter, why in _REFUSED_PARAMETERS.get(name, {}).items():
        if parameter in params:
            raise ConfigurationError(f"{method} with {parameter} is refused on an encrypting client: {why}")
    if name == "RestoreObject" and "SelectParameters" in (params.get("RestoreRequest") or {}):
        raise ConfigurationError(
            "restore_object with SelectParameters is refused on an encrypting client: S3 would query the "
            "ciphertext; restore the object without them, then get it and filter locally"
        )


def check_presign(name: str, params: Mapping[str, Any], method: str) -> None:
    """Refuse s3crypt's own parameters in a presigned URL, which is used without s3crypt."""
    given = [parameter for parameter in S3CRYPT_PARAMETERS if parameter in params]
    if given:
        raise ConfigurationError(
            f"generate_presigned_url for {method} cannot take {given}: a presigned URL is used without "
            "s3crypt, so a GET returns the ciphertext and a PUT stores its body unencrypted"
        )
