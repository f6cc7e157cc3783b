"""Instruction files in S3: written after the object, read when its metadata lacks the wrapped key, deleted
with it. Every call here goes through the client with :data:`RAW`, so it is neither encrypted nor decrypted.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from s3crypt.errors import ConfigurationError, EncryptionError, FormatError, NotEncryptedError
from s3crypt.format import instruction
from s3crypt.format import metadata as meta
from s3crypt.operations.params import RAW, call_state, take_raw

if TYPE_CHECKING:
    from botocore.hooks import BaseEventHooks

    from s3crypt.config import EncryptionConfig

_MAX_SIZE = 64 * 1024


def take_suffix(params: dict[str, Any]) -> str:
    suffix = params.pop("InstructionFileSuffix", instruction.DEFAULT_SUFFIX)
    if not isinstance(suffix, str) or not suffix:
        raise ConfigurationError("InstructionFileSuffix must be a non-empty string, such as '.instruction'")
    return suffix


def write(client: Any, bucket: str, key: str, entries: Mapping[str, str]) -> None:
    """Store ``entries`` as the instruction file ``key`` (the object must already be written)."""
    try:
        client.put_object(
            Bucket=bucket, Key=key, Body=instruction.encode(entries), Metadata={instruction.MARKER: ""}, **{RAW: True}
        )
    except ClientError as error:
        raise EncryptionError(
            f"the object was stored but its instruction file {key!r} was not ({error}); until it is, the object "
            "cannot be decrypted: upload the object again"
        ) from error


def completed(client: Any, bucket: str, key: str, suffix: str, object_metadata: Mapping[str, str]) -> dict[str, str]:
    """The object's metadata, completed from its instruction file when the wrapped key is not in it."""
    if not instruction.needed(object_metadata):
        return dict(object_metadata)
    instruction_key = key + suffix
    try:
        response = client.get_object(Bucket=bucket, Key=instruction_key, **{RAW: True})
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code not in {"NoSuchKey", "404", "AccessDenied", "403"}:
            raise
        if not meta.has_crypto_keys(object_metadata):
            raise NotEncryptedError(
                "the object has no client-side encryption metadata, and no instruction file "
                f"{instruction_key!r} could be read ({code}): it was not written by s3crypt or an S3 Encryption "
                "Client; read it with a plain boto3 client"
            ) from None
        if code in {"AccessDenied", "403"}:
            raise
        raise FormatError(
            f"the object's crypto metadata points to an instruction file, but {instruction_key!r} does not exist"
        ) from None
    with response["Body"] as body:
        content = body.read(_MAX_SIZE + 1)
    if len(content) > _MAX_SIZE:
        raise FormatError(f"{instruction_key!r} is too large to be an instruction file")
    return instruction.merge(object_metadata, content, instruction_key)


def check_delete(config: EncryptionConfig, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    state = call_state(context)
    if take_raw(params, context):
        return
    state["suffix"] = take_suffix(params)
    state["bucket"] = params.get("Bucket")
    # A delete of one version leaves the instruction file, which the object's other versions may need.
    if "Key" in params:
        state["keys"] = [] if "VersionId" in params else [params["Key"]]
    else:
        objects = (params.get("Delete") or {}).get("Objects") or []
        state["keys"] = [entry["Key"] for entry in objects if "VersionId" not in entry]


def delete_instruction_files(
    config: EncryptionConfig, client: Any, parsed: dict[str, Any], http_response: Any, context: dict[str, Any], **_: Any
) -> None:
    state = call_state(context)
    if http_response.status_code >= 300 or state.get("raw") or not config.delete_instruction_files:
        return
    failed = {error.get("Key") for error in parsed.get("Errors", [])}  # Quiet mode lists only the failures
    keys = [key for key in state["keys"] if key not in failed]
    suffix = state["suffix"]
    for start in range(0, len(keys), 1000):
        batch = [{"Key": key + suffix} for key in keys[start : start + 1000]]
        client.delete_objects(Bucket=state["bucket"], Delete={"Objects": batch, "Quiet": True}, **{RAW: True})


def register(events: BaseEventHooks, config: EncryptionConfig, client: Any) -> None:
    for operation in ("DeleteObject", "DeleteObjects"):
        events.register(f"provide-client-params.s3.{operation}", functools.partial(check_delete, config))
        events.register(f"after-call.s3.{operation}", functools.partial(delete_instruction_files, config, client))
