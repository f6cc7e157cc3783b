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

from s3crypt.crypto.content import ContentCipher, content_cipher, verify_commitment
from s3crypt.crypto.streams import RangeReader, plaintext_reader
from s3crypt.crypto.suites import GCM_TAG_LENGTH
from s3crypt.errors import ConfigurationError, DecryptionError, FormatError
from s3crypt.format import metadata
from s3crypt.operations.instruction import completed, take_suffix
from s3crypt.operations.params import call_state, take_encryption_context, take_raw
from s3crypt.operations.ranges import PlaintextRange, whole_content_range, window

if TYPE_CHECKING:
    import io

    from botocore.hooks import BaseEventHooks

    from s3crypt.config import EncryptionConfig
    from s3crypt.format.metadata import Envelope


def check_parameters(config: EncryptionConfig, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if take_raw(params, context):
        return
    take_encryption_context(config, params, context)
    state = call_state(context)
    state["location"] = (params.get("Bucket"), params.get("Key"), take_suffix(params))
    if "PartNumber" in params:
        raise ConfigurationError(
            "GetObject with PartNumber returns part of the ciphertext, which cannot be authenticated; "
            "get the whole object"
        )
    if "Range" in params:
        if PlaintextRange.parse(params["Range"]).covers_whole_object:
            state["whole_range"] = True  # the request keeps bytes=0-: all of the ciphertext, tag included
            return
        if not config.enable_ranged_get:
            raise ConfigurationError(
                "a ranged get cannot be authenticated (it never sees the GCM tag); create the client with "
                "enable_ranged_get=True to allow unauthenticated ranged reads"
            )
        requested = PlaintextRange.parse(params["Range"])
        state["range"] = requested
        params["Range"] = requested.ciphertext_header()


def decrypt_body(
    config: EncryptionConfig,
    client: Any,
    parsed: dict[str, Any],
    http_response: Any,
    context: dict[str, Any],
    **_: Any,
) -> None:
    """``after-call``: replace the ciphertext body with a plaintext body."""
    state = call_state(context)
    if http_response.status_code >= 300 or state.get("raw"):
        return  # S3's own error (or 304 Not Modified), which botocore raises unchanged; or a raw read
    body = parsed["Body"]
    try:
        bucket, key, suffix = state["location"]
        stored_metadata = completed(client, bucket, key, suffix, parsed.get("Metadata") or {})
        reader, length = _plaintext_reader(config, parsed, stored_metadata, state)
    except BaseException:
        body.close()
        raise
    parsed["Body"] = PlaintextBody(reader, length, body)
    if length is None:  # a legacy CBC object that does not record its plaintext length
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


def _plaintext_reader(
    config: EncryptionConfig, parsed: dict[str, Any], stored_metadata: dict[str, str], state: dict[str, Any]
) -> tuple[io.RawIOBase, int | None]:
    body, content_length = parsed["Body"], parsed.get("ContentLength")
    if not isinstance(content_length, int):
        raise DecryptionError("S3 sent no Content-Length for the object; it cannot be decrypted")
    encryption_context = state["encryption_context"]
    requested: PlaintextRange | None = state.get("range")
    if requested is None:
        if "ContentRange" in parsed and not state.get("whole_range"):
            raise DecryptionError("S3 returned a byte range that was not asked for; the object cannot be authenticated")
        cipher = object_cipher(config, stored_metadata, content_length, encryption_context)
        length = _plaintext_length(cipher, content_length, stored_metadata)
        if "ContentRange" in parsed:  # the response to bytes=0-
            plaintext_range = whole_content_range(parsed.pop("ContentRange"), content_length, length)
            if length == 0:
                raise _invalid_range(0)  # as S3 answers bytes=0- of an empty object
            if plaintext_range is not None:
                parsed["ContentRange"] = plaintext_range
        reader = plaintext_reader(
            body,
            content_length,
            cipher,
            delayed=config.enable_delayed_authentication,
            memory_limit=config.decrypt_memory_limit,
        )
        return reader, length
    plaintext = window(requested, parsed.get("ContentRange"), content_length)
    if plaintext is None:
        raise _invalid_range(None)
    cipher = object_cipher(config, stored_metadata, plaintext.plaintext_size + GCM_TAG_LENGTH, encryption_context)
    if cipher.suite.is_legacy:
        raise ConfigurationError("a ranged get of a legacy CBC object is not supported; get the whole object")
    if plaintext.content_range is None:
        parsed.pop("ContentRange", None)
    else:
        parsed["ContentRange"] = plaintext.content_range
    return RangeReader(body, cipher, plaintext.response_start, plaintext.start, plaintext.length), plaintext.length


def _invalid_range(actual_size: int | None) -> ClientError:
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
    envelope, data_key = unwrap(config, stored_metadata, object_size, encryption_context)
    return content_cipher(envelope.suite, data_key, envelope.iv)


def unwrap(
    config: EncryptionConfig, stored_metadata: dict[str, str], object_size: int, encryption_context: dict[str, str]
) -> tuple[Envelope, bytes]:
    """The object's envelope, checked against the policy and the object, and its data key (commitment verified)."""
    envelope = metadata.decode(stored_metadata)
    check_envelope(config, envelope, object_size)
    data_key = config.keyring.decrypt_data_key(envelope.data_key, envelope.suite, encryption_context)
    if envelope.commitment is not None:
        verify_commitment(data_key, envelope.iv, envelope.commitment)
    return envelope, data_key


def _plaintext_length(cipher: ContentCipher, object_size: int, stored_metadata: dict[str, str]) -> int | None:
    """The plaintext length: the object's less the tag, or for CBC (padded) what the metadata says, if it does."""
    if not cipher.suite.is_legacy:
        return object_size - GCM_TAG_LENGTH
    return metadata.decode(stored_metadata).plaintext_length


def check_envelope(config: EncryptionConfig, envelope: Envelope, object_size: int) -> None:
    suite = envelope.suite
    if suite.is_legacy and not config.enable_legacy_unauthenticated_modes:
        raise FormatError(
            f"the object is encrypted with the legacy unauthenticated suite {suite.name} (AES-CBC); create the "
            "client with enable_legacy_unauthenticated_modes=True to read it"
        )
    wrapping = envelope.data_key.wrapping_algorithm
    if wrapping in metadata.LEGACY_WRAPPINGS and not config.enable_legacy_wrapping_algorithms:
        raise FormatError(
            f"the object's data key is wrapped with the legacy algorithm {wrapping!r}; create the client with "
            "enable_legacy_wrapping_algorithms=True to read it"
        )
    if not config.commitment_policy.may_decrypt(suite):
        raise FormatError(
            f"the object uses {suite.name}, which has no key commitment, and commitment_policy is "
            f"{config.commitment_policy.name}; create the client with "
            "commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT to read it"
        )
    declared = envelope.plaintext_length
    padded = suite.is_legacy and declared is not None and 0 < object_size - declared <= GCM_TAG_LENGTH
    if declared is not None and declared != object_size - GCM_TAG_LENGTH and not padded:
        raise FormatError(
            f"the object's metadata gives a plaintext of {declared} bytes but it stores "
            f"{object_size} bytes of ciphertext: the object or its metadata was altered"
        )


def register(events: BaseEventHooks, config: EncryptionConfig, client: Any) -> None:
    events.register("provide-client-params.s3.GetObject", functools.partial(check_parameters, config))
    events.register("after-call.s3.GetObject", functools.partial(decrypt_body, config, client))
