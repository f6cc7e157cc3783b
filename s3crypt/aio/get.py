"""GetObject on the asyncio client: the sync client's opening of a get (:mod:`s3crypt._operations.get`), with the
instruction file and the keyring awaited, and a body that reads as aiobotocore's does."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Any

from s3crypt._core.get import UnsatisfiableRange, content_cipher_for
from s3crypt._crypto.streams import Readable
from s3crypt._operations.get import invalid_range, opening, reader_for, set_content_length
from s3crypt._operations.state import GetState, state_of
from s3crypt.aio import instruction
from s3crypt.aio.body import INLINE_LIMIT, AioPlaintextBody, LoopSource
from s3crypt.aio.reads import close_soon, read_up_to

if TYPE_CHECKING:
    from s3crypt._config import EncryptionConfig
    from s3crypt.aio.keyring import AsyncKeyring
    from s3crypt.aio.resources import Resources


async def decrypt_body(
    config: EncryptionConfig,
    keyring: AsyncKeyring,
    resources: Resources,
    parsed: dict[str, Any],
    http_response: Any,
    context: dict[str, Any],
    **_: Any,
) -> None:
    """``after-call`` of GetObject: replace the ciphertext body with a plaintext body."""
    state = state_of(context, GetState)
    if http_response.status_code >= 300 or state is None:
        return  # S3's own error (or 304 Not Modified), which aiobotocore raises unchanged
    body = parsed["Body"]
    try:
        object_metadata = parsed.get("Metadata") or {}
        stored = await instruction.completed(resources, state.bucket, state.key, state.suffix, object_metadata)
        located, request = opening(config, parsed, stored, state)
        cipher = content_cipher_for(request.envelope, await keyring.decrypt_data_key(*request.arguments))
        threaded = located.content_length > INLINE_LIMIT
        source: Readable = LoopSource(body, asyncio.get_running_loop()) if threaded else io.BytesIO(await _whole(body))
        reader, length = reader_for(config, parsed, located, cipher, request.envelope, source)
    except UnsatisfiableRange as error:
        await body.aclose()
        raise invalid_range(error.actual_size) from None
    except BaseException:
        close_soon(body)
        raise
    parsed["Body"] = AioPlaintextBody(reader, length, body, threaded=threaded)
    set_content_length(parsed, length)


async def _whole(body: Any) -> bytes:
    """The whole (small) ciphertext of a response; short if the response is (the reader then says so)."""
    return await read_up_to(body, INLINE_LIMIT + 1)
