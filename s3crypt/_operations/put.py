"""PutObject: the body is encrypted as botocore reads it and the envelope goes into the object metadata."""

from __future__ import annotations

import base64
import functools
import hashlib
import io
from typing import IO, TYPE_CHECKING, Any

from s3crypt._core.limits import metadata_in
from s3crypt._core.put import KeyRequest, check_checksums, check_metadata, checked_instruction_file, key_request
from s3crypt._core.put import seal as seal_object
from s3crypt._crypto.streams import CHUNK_SIZE, EncryptingStream, GcmMessage, check_plaintext_length
from s3crypt._errors import ConfigurationError
from s3crypt._format.instruction import DEFAULT_SUFFIX
from s3crypt._operations import instruction
from s3crypt._operations.inputs import binary_stream
from s3crypt._operations.params import location, take_encryption_context
from s3crypt._operations.state import PutState, is_presign, keep, state_of

if TYPE_CHECKING:
    from botocore.hooks import BaseEventHooks

    from s3crypt._config import EncryptionConfig
    from s3crypt._keyrings.base import DataKey


def check_parameters(config: EncryptionConfig, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if is_presign(context):
        return
    keep(context, take_put_state(config, params))
    check_metadata(params)
    check_checksums(params)


def take_put_state(config: EncryptionConfig, params: dict[str, Any]) -> PutState:
    """Take s3crypt's parameters of a call that writes an object: its ``EncryptionContext`` and whether its
    crypto metadata goes to an instruction file."""
    encryption_context = take_encryption_context(config, params)
    wanted = checked_instruction_file(params.pop("InstructionFile", config.instruction_file))
    return PutState(*location(params), encryption_context, wanted)


def encrypt_body(config: EncryptionConfig, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """``before-call``: swap the serialized body for an encrypting stream and add the envelope headers."""
    state = state_of(context, PutState)
    if state is None:
        return
    source, length = plaintext_of(params)
    message = seal(config, params["headers"], state, length)
    encrypt_request_body(params, source, length, message)


def write_instruction_file(client: Any, http_response: Any, context: dict[str, Any], **_: Any) -> None:
    """``after-call`` of an upload that completes an object: store its instruction file, if it has one."""
    if (pending := instruction_to_write(http_response, context)) is not None:
        instruction.write(client, *pending)


def instruction_to_write(http_response: Any, context: dict[str, Any]) -> tuple[str, str, dict[str, str]] | None:
    """The bucket, key and entries of the instruction file a successful put must be followed by, if any."""
    state = state_of(context, PutState)
    if http_response.status_code < 300 and state is not None and state.instruction is not None:
        return state.bucket, state.key + DEFAULT_SUFFIX, state.instruction
    return None


def plaintext_of(params: dict[str, Any]) -> tuple[IO[bytes], int]:
    """The body to encrypt, and its length (checked against GCM's limit)."""
    source = plaintext_source(params)
    length = plaintext_length(source, params["headers"])
    check_plaintext_length(length)
    return source, length


def seal(config: EncryptionConfig, headers: dict[str, Any], state: PutState, length: int | None) -> GcmMessage:
    """A new data key for one object: its envelope goes into ``headers`` (and into the call state's
    ``instruction`` for the entries an instruction file holds), its cipher into the returned message."""
    request = seal_request(config, headers, state, length)
    return sealed_into(headers, state, request, config.keyring.generate_data_key(*request.arguments))


def seal_request(config: EncryptionConfig, headers: dict[str, Any], state: PutState, length: int | None) -> KeyRequest:
    """What to ask the keyring for to seal the object of this call."""
    return key_request(
        config, metadata_in(headers), state.encryption_context, length, instruction_file=state.instruction_file
    )


def sealed_into(headers: dict[str, Any], state: PutState, request: KeyRequest, data_key: DataKey) -> GcmMessage:
    """Seal the object under ``data_key``: its envelope into ``headers`` and the call state; its message."""
    sealed = seal_object(request, metadata_in(headers), data_key)
    state.instruction = sealed.instruction
    headers.update(sealed.headers)
    return sealed.message


def encrypt_request_body(
    params: dict[str, Any], source: IO[bytes], length: int, message: GcmMessage, offset: int = 0, *, last: bool = True
) -> None:
    """Replace the serialized body with the ciphertext of ``source`` (``offset`` of ``message``)."""
    headers = params["headers"]
    stream = EncryptingStream(source, length, message, offset, last=last)
    headers["Content-Length"] = str(len(stream))
    if "Content-MD5" in headers:
        headers["Content-MD5"] = _ciphertext_md5(source, length, headers["Content-MD5"], stream)
    params["body"] = stream


def plaintext_source(params: dict[str, Any]) -> IO[bytes]:
    body = params["body"]
    if isinstance(body, (bytes, bytearray, memoryview)):
        return io.BytesIO(body)
    if isinstance(body, str):
        return io.BytesIO(body.encode("utf-8"))
    return binary_stream(body, "Body")


def plaintext_length(source: IO[bytes], headers: dict[str, Any]) -> int:
    """The length the caller gave (ContentLength) or, for a seekable body, what is left of it."""
    if "Content-Length" in headers:
        return int(headers["Content-Length"])
    try:
        start = source.tell()
        source.seek(0, io.SEEK_END)
        end = source.tell()
        source.seek(start)
    except (AttributeError, OSError, ValueError):
        raise ConfigurationError(
            "the body's length is unknown (it cannot seek) and no ContentLength was given; pass ContentLength, "
            "or use upload_fileobj, which streams bodies of any length"
        ) from None
    return end - start


def _ciphertext_md5(source: IO[bytes], length: int, plaintext_md5: str, stream: EncryptingStream) -> str:
    """Check the caller's ContentMD5 against the plaintext, then give the MD5 of the ciphertext S3 receives."""
    if not stream.seekable():
        raise ConfigurationError("ContentMD5 needs a seekable body: s3crypt must read it twice")
    start = source.tell()
    matches = _md5(source, length) == plaintext_md5
    source.seek(start)
    if not matches:
        raise ConfigurationError("ContentMD5 does not match the body: the body is not what the caller hashed")
    ciphertext_md5 = _md5(stream, len(stream))
    stream.seek(0)
    return ciphertext_md5


def _md5(stream: IO[bytes] | EncryptingStream, length: int) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    while length and (chunk := stream.read(min(CHUNK_SIZE, length))):
        digest.update(chunk)
        length -= len(chunk)
    return base64.b64encode(digest.digest()).decode("ascii")


def register(events: BaseEventHooks, config: EncryptionConfig, client: Any) -> None:
    events.register("provide-client-params.s3.PutObject", functools.partial(check_parameters, config))
    events.register("before-call.s3.PutObject", functools.partial(encrypt_body, config))
    events.register("after-call.s3.PutObject", functools.partial(write_instruction_file, client))
