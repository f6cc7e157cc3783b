"""GetObject on the asyncio client: the sync client's opening of a get (:mod:`s3crypt._operations.get`), with the
instruction file and the keyring awaited, and a body that reads as aiobotocore's does."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Any

from s3crypt._core.get import Located, UnsatisfiableRange, content_cipher_for
from s3crypt._crypto.streams import AuthenticatedReader, Readable
from s3crypt._operations.get import decryption_for, invalid_range, opening, set_content_length
from s3crypt._operations.state import GetState, state_of
from s3crypt.aio import instruction
from s3crypt.aio.body import INLINE_LIMIT, AioPlaintextBody, Inline, LoopSource, Plaintext, Streamed, Threaded
from s3crypt.aio.prefetch import Prefetched, while_prefetching
from s3crypt.aio.reads import close_soon, read_up_to

if TYPE_CHECKING:
    from s3crypt._config import EncryptionConfig
    from s3crypt._crypto.content import ContentCipher
    from s3crypt._format.metadata import Envelope
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
    body = Prefetched(parsed["Body"])
    try:
        object_metadata = parsed.get("Metadata") or {}
        stored = await instruction.completed(resources, state.bucket, state.key, state.suffix, object_metadata)
        located, request = opening(config, parsed, stored, state)
        data_key = await while_prefetching(body, keyring.decrypt_data_key(*request.arguments))
        cipher = content_cipher_for(request.envelope, data_key)
        plaintext, length = await _plaintext(config, parsed, located, cipher, request.envelope, body)
    except UnsatisfiableRange as error:
        await body.aclose()
        raise invalid_range(error.actual_size) from None
    except BaseException:
        close_soon(body)
        raise
    parsed["Body"] = AioPlaintextBody(plaintext, length, body)
    set_content_length(parsed, length)


async def _plaintext(
    config: EncryptionConfig,
    parsed: dict[str, Any],
    located: Located,
    cipher: ContentCipher,
    envelope: Envelope,
    body: Any,
) -> tuple[Plaintext, int | None]:
    """How the body's plaintext is read (see :mod:`s3crypt.aio.body`), and its length."""
    decryption, length = decryption_for(config, parsed, located, cipher, envelope)
    if decryption is not None:
        return Streamed(decryption, body), length
    small = located.content_length <= INLINE_LIMIT
    if small:  # read whole now, short if the body is (the reader says so)
        source: Readable = io.BytesIO(await read_up_to(body, INLINE_LIMIT + 1))
    else:
        source = LoopSource(body, asyncio.get_running_loop())
    reader = AuthenticatedReader(source, located.content_length, cipher, config.decrypt_memory_limit)
    return (Inline(reader) if small else Threaded(reader)), length
