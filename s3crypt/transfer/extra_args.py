"""The ``ExtraArgs`` each managed transfer accepts, and their check before anything is sent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from s3transfer.manager import TransferManager

from s3crypt.core.put import is_precomputed_checksum
from s3crypt.errors import ConfigurationError
from s3crypt.format.context import validate_user_context


@dataclass(frozen=True)
class ExtraArgs:
    """The ``ExtraArgs`` one direction of transfer accepts."""

    direction: str
    allowed: frozenset[str]


# Checksum values of the plaintext, and the settings of a full-object checksum, cannot describe the ciphertext.
UPLOAD_ARGS = ExtraArgs(
    "upload",
    frozenset(
        name
        for name in TransferManager.ALLOWED_UPLOAD_ARGS
        if not is_precomputed_checksum(name) and name not in {"ChecksumType", "MpuObjectSize"}
    )
    | {"EncryptionContext", "InstructionFile", "BucketKeyEnabled"},
)
COPY_ARGS = ExtraArgs(
    "copy",
    frozenset(name for name in TransferManager.ALLOWED_COPY_ARGS if not is_precomputed_checksum(name))
    | {"EncryptionContext", "InstructionFileSuffix"},
)
DOWNLOAD_ARGS = ExtraArgs(
    "download", frozenset(TransferManager.ALLOWED_DOWNLOAD_ARGS) | {"EncryptionContext", "InstructionFileSuffix"}
)


def checked(extra_args: Mapping[str, Any] | None, accepted: ExtraArgs) -> dict[str, Any]:
    """A copy of ``extra_args``, refused if it holds an argument an encrypted transfer cannot honour."""
    args = dict(extra_args or {})
    unknown = sorted(args.keys() - accepted.allowed)
    if unknown:
        raise ConfigurationError(
            f"ExtraArgs {unknown} are not allowed for an encrypted {accepted.direction}; "
            f"allowed: {sorted(accepted.allowed)}"
        )
    if "EncryptionContext" in args:
        validate_user_context(args["EncryptionContext"])
    return args
