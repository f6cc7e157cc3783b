"""Instruction files for the asyncio client: written, read and deleted through its unhooked aiobotocore client,
with the decisions and errors of :mod:`s3crypt._core.instruction` and :mod:`s3crypt._operations.instruction`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from s3crypt._core.instruction import MAX_SIZE, completed_metadata, instruction_deletes
from s3crypt._format import instruction as instruction_format
from s3crypt._operations.instruction import not_written, refusal, write_request
from s3crypt._operations.state import DeleteState, state_of
from s3crypt.aio.reads import read_up_to

if TYPE_CHECKING:
    from s3crypt._config import EncryptionConfig
    from s3crypt.aio.resources import Resources


async def write(resources: Resources, bucket: str, key: str, entries: Mapping[str, str]) -> None:
    """Store ``entries`` as the instruction file ``key`` (the object must already be written)."""
    try:
        await (await resources.unhooked()).put_object(**write_request(bucket, key, entries))
    except ClientError as error:
        raise not_written(key, error) from error


async def completed(
    resources: Resources, bucket: str, key: str, suffix: str, object_metadata: Mapping[str, str]
) -> dict[str, str]:
    """The object's metadata, completed from its instruction file when the wrapped key is not in it."""
    if not instruction_format.needed(object_metadata):
        return dict(object_metadata)
    instruction_key = key + suffix
    try:
        response = await (await resources.unhooked()).get_object(Bucket=bucket, Key=instruction_key)
    except ClientError as error:
        raise refusal(error, object_metadata, instruction_key) from None
    async with response["Body"] as body:
        content = await read_up_to(body, MAX_SIZE + 1)
    return completed_metadata(object_metadata, content, instruction_key)


async def delete_instruction_files(
    config: EncryptionConfig,
    resources: Resources,
    parsed: dict[str, Any],
    http_response: Any,
    context: dict[str, Any],
    **_: Any,
) -> None:
    """``after-call`` of DeleteObject(s): delete the instruction files of the keys deleted."""
    state = state_of(context, DeleteState)
    if http_response.status_code >= 300 or state is None or not config.delete_instruction_files:
        return
    client = await resources.unhooked()
    for batch in instruction_deletes(state.keys, parsed.get("Errors", []), state.suffix):
        await client.delete_objects(Bucket=state.bucket, Delete={"Objects": batch, "Quiet": True})
