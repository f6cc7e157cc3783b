"""PutObject and CreateMultipartUpload on the asyncio client: the sync client's checks and sealing
(:mod:`s3crypt._operations.put`), with the keyring call and the instruction file awaited."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from s3crypt._crypto.streams import CHUNK_SIZE, GcmMessage
from s3crypt._operations.put import encrypt_request_body, instruction_to_write, plaintext_of, seal_request, sealed_into
from s3crypt._operations.state import PutState, state_of
from s3crypt.aio import instruction

if TYPE_CHECKING:
    from s3crypt._config import EncryptionConfig
    from s3crypt.aio.keyring import AsyncKeyring
    from s3crypt.aio.resources import Resources

SMALL_BODY = CHUNK_SIZE
"""A body up to this size is encrypted at once into bytes, which aiohttp sends without a worker thread."""


async def seal(
    config: EncryptionConfig, keyring: AsyncKeyring, headers: dict[str, Any], state: PutState, length: int | None
) -> GcmMessage:
    """:func:`s3crypt._operations.put.seal`, awaiting the keyring."""
    request = seal_request(config, headers, state, length)
    return sealed_into(headers, state, request, await keyring.generate_data_key(*request.arguments))


async def encrypt_body(
    config: EncryptionConfig, keyring: AsyncKeyring, params: dict[str, Any], context: dict[str, Any], **_: Any
) -> None:
    """``before-call`` of PutObject: swap the body for its ciphertext and add the envelope headers."""
    state = state_of(context, PutState)
    if state is None:
        return
    source, length = plaintext_of(params)
    message = await seal(config, keyring, params["headers"], state, length)
    encrypt_request_body(params, source, length, message)
    if length <= SMALL_BODY:
        params["body"] = params["body"].read()


async def seal_upload(
    config: EncryptionConfig, keyring: AsyncKeyring, params: dict[str, Any], context: dict[str, Any], **_: Any
) -> None:
    """``before-call`` of CreateMultipartUpload: seal the object its parts will make up."""
    state = state_of(context, PutState)
    if state is not None:
        state.message = await seal(config, keyring, params["headers"], state, None)


async def write_instruction_file(resources: Resources, http_response: Any, context: dict[str, Any], **_: Any) -> None:
    """``after-call`` of PutObject: store the object's instruction file, if it has one."""
    if (pending := instruction_to_write(http_response, context)) is not None:
        await instruction.write(resources, *pending)
