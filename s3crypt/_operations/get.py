"""GetObject: read the envelope, unwrap the data key, and hand back a body that decrypts as it is read.

By default the body authenticates the whole object before it releases a byte; with
``enable_delayed_authentication`` it streams and checks the tag at the end; a ``Range`` (only with
``enable_ranged_get``) is decrypted with AES-CTR and is not authenticated.
"""

from __future__ import annotations

import functools
from typing import IO, TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from s3crypt._core.get import (
    Located,
    UnsatisfiableRange,
    UnwrapRequest,
    check_data_key,
    content_cipher_for,
    locate,
    plan_get,
    read_plan,
    unwrap_request,
)
from s3crypt._crypto.decryption import Decryption, RangeDecryption, streaming_decryption
from s3crypt._crypto.streams import AuthenticatedReader, DecryptingReader, Readable
from s3crypt._operations.instruction import completed, take_suffix
from s3crypt._operations.params import location, take_encryption_context
from s3crypt._operations.state import GetState, is_presign, keep, state_of

if TYPE_CHECKING:
    import io

    from botocore.hooks import BaseEventHooks

    from s3crypt._config import EncryptionConfig
    from s3crypt._crypto.content import ContentCipher
    from s3crypt._format.metadata import Envelope


def check_parameters(config: EncryptionConfig, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if is_presign(context):
        return
    encryption_context = take_encryption_context(config, params)
    suffix = take_suffix(params)
    plan = plan_get(config, params)
    keep(context, GetState(*location(params), suffix, encryption_context, plan))
    if plan.ciphertext_range is not None:
        params["Range"] = plan.ciphertext_range


def skip_ciphertext_checksum(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    """``before-parameter-build``, after botocore's handler that adds ``ChecksumMode`` by default: take it out
    again where the get's plan does not ask S3 for the ciphertext's checksum."""
    if model.name == "GetObject" and (state := state_of(context, GetState)) and not state.plan.ciphertext_checksum:
        params.pop("ChecksumMode", None)


def decrypt_body(
    config: EncryptionConfig,
    client: Any,
    parsed: dict[str, Any],
    http_response: Any,
    context: dict[str, Any],
    **_: Any,
) -> None:
    """``after-call``: replace the ciphertext body with a plaintext body."""
    state = state_of(context, GetState)
    if http_response.status_code >= 300 or state is None:
        return  # S3's own error (or 304 Not Modified), which botocore raises unchanged
    body = parsed["Body"]
    try:
        stored_metadata = completed(client, state.bucket, state.key, state.suffix, parsed.get("Metadata") or {})
        located, request = opening(config, parsed, stored_metadata, state)
        cipher = content_cipher_for(request.envelope, config.keyring.decrypt_data_key(*request.arguments))
        reader, length = reader_for(config, parsed, located, cipher, request.envelope, body)
    except UnsatisfiableRange as error:
        body.close()
        raise invalid_range(error.actual_size) from None
    except BaseException:
        body.close()
        raise
    parsed["Body"] = PlaintextBody(reader, length, body)
    set_content_length(parsed, length)


def set_content_length(parsed: dict[str, Any], length: int | None) -> None:
    """Give the response the plaintext's ContentLength (none for a legacy CBC object that does not record it)."""
    if length is None:
        del parsed["ContentLength"]
    else:
        parsed["ContentLength"] = length


class PlaintextBody(StreamingBody):
    """botocore's ``StreamingBody`` over the plaintext: ``tell`` counts the plaintext bytes read so far (the
    reader cannot seek), and ``set_socket_timeout`` reaches the connection under the ciphertext's body."""

    def __init__(self, reader: io.RawIOBase, length: int | None, ciphertext: StreamingBody) -> None:
        super().__init__(cast("IO[bytes]", reader), length)  # type: ignore[arg-type]  # None: length unchecked
        self._ciphertext = ciphertext
        self._position = 0

    def read(self, amt: int | None = None) -> bytes:
        chunk: bytes = super().read(amt)
        self._position += len(chunk)
        return chunk

    def readinto(self, b: Any) -> int:
        amount: int = super().readinto(b)
        self._position += amount
        return amount

    def readlines(self) -> list[bytes]:  # type: ignore[override]
        lines: list[bytes] = super().readlines()
        self._position += sum(map(len, lines))
        return lines

    def tell(self) -> int:
        return self._position

    def set_socket_timeout(self, timeout: float) -> None:
        self._ciphertext.set_socket_timeout(timeout)


def opening(
    config: EncryptionConfig, parsed: dict[str, Any], stored_metadata: dict[str, str], state: GetState
) -> tuple[Located, UnwrapRequest]:
    """Where the response lies in the object, and what the keyring must unwrap to read it."""
    located = locate(state.plan, parsed.get("ContentLength"), parsed.get("ContentRange"))
    return located, unwrap_request(config, stored_metadata, located.object_size, state.encryption_context)


def decryption_for(
    config: EncryptionConfig, parsed: dict[str, Any], located: Located, cipher: ContentCipher, envelope: Envelope
) -> tuple[Decryption | None, int | None]:
    """How the response's ciphertext is decrypted as it arrives (``None``: authenticated before any release), and
    the plaintext's length; the response's Content-Range becomes the plaintext's."""
    plan = read_plan(located, cipher, envelope)
    parsed.pop("ContentRange", None)
    if plan.content_range is not None:
        parsed["ContentRange"] = plan.content_range
    if plan.window is not None:
        ranged = plan.window
        return RangeDecryption(cipher, ranged.response_start, ranged.start, ranged.length), plan.length
    delayed = config.enable_delayed_authentication
    return streaming_decryption(located.content_length, cipher, delayed=delayed), plan.length


def reader_for(
    config: EncryptionConfig,
    parsed: dict[str, Any],
    located: Located,
    cipher: ContentCipher,
    envelope: Envelope,
    source: Readable,
) -> tuple[io.RawIOBase, int | None]:
    """The plaintext reader of the response's ciphertext ``source`` (see :func:`decryption_for`), and its length."""
    decryption, length = decryption_for(config, parsed, located, cipher, envelope)
    if decryption is not None:
        return DecryptingReader(source, decryption), length
    return AuthenticatedReader(source, located.content_length, cipher, config.decrypt_memory_limit), length


def invalid_range(actual_size: int | None) -> ClientError:
    """S3's answer to a range the (plaintext) object cannot satisfy."""
    error = {"Code": "InvalidRange", "Message": "The requested range is not satisfiable"}
    if actual_size is not None:
        error["ActualObjectSize"] = str(actual_size)
    metadata = {"HTTPStatusCode": 416, "HTTPHeaders": {}, "HostId": "", "RequestId": "", "RetryAttempts": 0}
    return ClientError({"Error": error, "ResponseMetadata": metadata}, "GetObject")  # type: ignore[typeddict-item]


def object_cipher(
    config: EncryptionConfig, stored_metadata: dict[str, str], object_size: int, encryption_context: dict[str, str]
) -> ContentCipher:
    """Read the envelope, check it against the policy and the object, unwrap the data key, derive the cipher."""
    request = unwrap_request(config, stored_metadata, object_size, encryption_context)
    return content_cipher_for(request.envelope, config.keyring.decrypt_data_key(*request.arguments))


def unwrap(
    config: EncryptionConfig, stored_metadata: dict[str, str], object_size: int, encryption_context: dict[str, str]
) -> tuple[Envelope, bytes]:
    """The object's envelope, checked against the policy and the object, and its data key (commitment verified)."""
    request = unwrap_request(config, stored_metadata, object_size, encryption_context)
    data_key = config.keyring.decrypt_data_key(*request.arguments)
    check_data_key(request.envelope, data_key)
    return request.envelope, data_key


def register(events: BaseEventHooks, config: EncryptionConfig, client: Any) -> None:
    events.register("provide-client-params.s3.GetObject", functools.partial(check_parameters, config))
    events.register_last("before-parameter-build", skip_ciphertext_checksum)
    events.register("after-call.s3.GetObject", functools.partial(decrypt_body, config, client))
