"""Instruction files in S3: written after the object, read when its metadata lacks the wrapped key, deleted
with it. Every call here goes through the unhooked client (:mod:`s3crypt._operations.unhooked`), so it is neither
encrypted nor decrypted, and this module is the one place that reads or writes them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from s3crypt._core.instruction import MAX_SIZE, completed_metadata, deleted_keys, instruction_deletes, unreadable
from s3crypt._errors import ConfigurationError, EncryptionError
from s3crypt._format import instruction
from s3crypt._operations.state import DeleteState, is_presign, keep, state_of
from s3crypt._operations.unhooked import unhooked

if TYPE_CHECKING:
    from botocore.hooks import BaseEventHooks

    from s3crypt._config import EncryptionConfig


def take_suffix(params: dict[str, Any]) -> str:
    """Take ``InstructionFileSuffix`` (where to read an object's instruction file) out of the parameters."""
    return checked_suffix(params.pop("InstructionFileSuffix", instruction.DEFAULT_SUFFIX))


def checked_suffix(suffix: Any, name: str = "InstructionFileSuffix") -> str:
    if not isinstance(suffix, str) or not suffix:
        raise ConfigurationError(f"{name} must be a non-empty string, such as '.instruction'")
    return suffix


def write(client: Any, bucket: str, key: str, entries: Mapping[str, str]) -> None:
    """Store ``entries`` as the instruction file ``key`` (the object must already be written)."""
    try:
        unhooked(client).put_object(**write_request(bucket, key, entries))
    except ClientError as error:
        raise not_written(key, error) from error


def write_request(bucket: str, key: str, entries: Mapping[str, str]) -> dict[str, Any]:
    """The PutObject parameters that store ``entries`` as the instruction file ``key``."""
    return {"Bucket": bucket, "Key": key, "Body": instruction.encode(entries), "Metadata": {instruction.MARKER: ""}}


def not_written(key: str, error: ClientError) -> EncryptionError:
    return EncryptionError(
        f"the object was stored but its instruction file {key!r} was not ({error}); until it is, the object "
        "cannot be decrypted: upload the object again"
    )


def completed(client: Any, bucket: str, key: str, suffix: str, object_metadata: Mapping[str, str]) -> dict[str, str]:
    """The object's metadata, completed from its instruction file when the wrapped key is not in it."""
    if not instruction.needed(object_metadata):
        return dict(object_metadata)
    instruction_key = key + suffix
    try:
        response = unhooked(client).get_object(Bucket=bucket, Key=instruction_key)
    except ClientError as error:
        raise refusal(error, object_metadata, instruction_key) from None
    with response["Body"] as body:
        content = body.read(MAX_SIZE + 1)
    return completed_metadata(object_metadata, content, instruction_key)


def refusal(error: ClientError, object_metadata: Mapping[str, str], instruction_key: str) -> Exception:
    """What to raise when reading ``instruction_key`` failed with ``error``: s3crypt's error, or S3's own."""
    return unreadable(error.response.get("Error", {}).get("Code"), object_metadata, instruction_key) or error


def check_delete(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if not is_presign(context):
        keep(context, DeleteState(params.get("Bucket", ""), take_suffix(params), deleted_keys(params)))


def delete_instruction_files(
    config: EncryptionConfig, client: Any, parsed: dict[str, Any], http_response: Any, context: dict[str, Any], **_: Any
) -> None:
    state = state_of(context, DeleteState)
    if http_response.status_code >= 300 or state is None or not config.delete_instruction_files:
        return
    for batch in instruction_deletes(state.keys, parsed.get("Errors", []), state.suffix):
        unhooked(client).delete_objects(Bucket=state.bucket, Delete={"Objects": batch, "Quiet": True})


def register(events: BaseEventHooks, config: EncryptionConfig, client: Any) -> None:
    for operation in ("DeleteObject", "DeleteObjects"):
        events.register(f"provide-client-params.s3.{operation}", check_delete)
        events.register(f"after-call.s3.{operation}", functools.partial(delete_instruction_files, config, client))
