"""Decisions about instruction files: what a failed read of one means, what is read, which go with a delete.

The reading and writing themselves are in :mod:`s3crypt._operations.instruction`, the one place that does them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from s3crypt._errors import FormatError, NotEncryptedError
from s3crypt._format import instruction
from s3crypt._format import metadata as meta

MAX_SIZE = 64 * 1024
"""The most of an instruction file that is read; a larger one is refused."""
DELETE_BATCH = 1000
"""S3's most keys in one DeleteObjects."""
MISSING = frozenset({"NoSuchKey", "404"})
FORBIDDEN = frozenset({"AccessDenied", "403"})


def unreadable(code: str | None, object_metadata: Mapping[str, str], instruction_key: str) -> Exception | None:
    """The error to raise when S3 answered ``code`` to the read of an object's instruction file; None to let
    S3's own error through."""
    if code not in MISSING | FORBIDDEN:
        return None
    if not meta.has_crypto_keys(object_metadata):
        return NotEncryptedError(
            "the object has no client-side encryption metadata, and no instruction file "
            f"{instruction_key!r} could be read ({code}): it was not written by s3crypt or an S3 Encryption "
            "Client; read it with a plain boto3 client"
        )
    if code in FORBIDDEN:
        return None
    return FormatError(
        f"the object's crypto metadata points to an instruction file, but {instruction_key!r} does not exist"
    )


def completed_metadata(object_metadata: Mapping[str, str], content: bytes, instruction_key: str) -> dict[str, str]:
    """The object's metadata completed from ``content``, the first :data:`MAX_SIZE` + 1 bytes of its file."""
    if len(content) > MAX_SIZE:
        raise FormatError(f"{instruction_key!r} is too large to be an instruction file")
    return instruction.merge(object_metadata, content, instruction_key)


def deleted_keys(params: Mapping[str, Any]) -> list[str]:
    """The keys a DeleteObject or DeleteObjects call removes whose instruction files go with them. A delete of
    one version leaves the instruction file, which the object's other versions may need."""
    if "Key" in params:
        return [] if "VersionId" in params else [params["Key"]]
    objects = (params.get("Delete") or {}).get("Objects") or []
    return [entry["Key"] for entry in objects if "VersionId" not in entry]


def instruction_deletes(keys: list[str], errors: list[Mapping[str, Any]], suffix: str) -> list[list[dict[str, str]]]:
    """The DeleteObjects batches that remove the instruction files of ``keys``, less those S3 failed to delete
    (``errors``; in Quiet mode S3 lists only the failures)."""
    failed = {error.get("Key") for error in errors}
    kept = [{"Key": key + suffix} for key in keys if key not in failed]
    return [kept[start : start + DELETE_BATCH] for start in range(0, len(kept), DELETE_BATCH)]
