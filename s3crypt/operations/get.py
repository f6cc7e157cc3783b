"""GetObject: read the envelope, unwrap the data key, and hand back a body that authenticates before it reads."""

from __future__ import annotations

import functools
from typing import IO, TYPE_CHECKING, Any, cast

from botocore.response import StreamingBody

from s3crypt.crypto.content import content_cipher, verify_commitment
from s3crypt.crypto.streams import AuthenticatedReader
from s3crypt.crypto.suites import GCM_TAG_LENGTH
from s3crypt.errors import ConfigurationError, DecryptionError, FormatError
from s3crypt.format import metadata
from s3crypt.operations.params import call_state, take_encryption_context

if TYPE_CHECKING:
    from botocore.hooks import BaseEventHooks

    from s3crypt.config import EncryptionConfig
    from s3crypt.format.metadata import Envelope


def check_parameters(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    take_encryption_context(params, context)
    for name in ("Range", "PartNumber"):
        if name in params:
            raise ConfigurationError(
                f"GetObject with {name} returns part of the ciphertext, which cannot be authenticated; "
                "get the whole object"
            )


def decrypt_body(
    config: EncryptionConfig, parsed: dict[str, Any], http_response: Any, context: dict[str, Any], **_: Any
) -> None:
    """``after-call``: replace the ciphertext body with an authenticating plaintext body."""
    if http_response.status_code >= 300:
        return  # S3's own error (or 304 Not Modified): botocore raises it unchanged
    body = parsed["Body"]
    try:
        ciphertext_length = _ciphertext_length(parsed)
        envelope = metadata.decode(parsed.get("Metadata") or {})
        _check_envelope(config, envelope, ciphertext_length)
        data_key = config.keyring.decrypt_data_key(
            envelope.data_key, envelope.suite, call_state(context)["encryption_context"]
        )
        if envelope.commitment is not None:
            verify_commitment(data_key, envelope.iv, envelope.commitment)
        cipher = content_cipher(envelope.suite, data_key, envelope.iv)
        reader = AuthenticatedReader(body, ciphertext_length, cipher, config.spool_memory_limit)
    except BaseException:
        body.close()
        raise
    plaintext_length = ciphertext_length - GCM_TAG_LENGTH
    parsed["Body"] = StreamingBody(cast("IO[bytes]", reader), plaintext_length)
    parsed["ContentLength"] = plaintext_length


def _ciphertext_length(parsed: dict[str, Any]) -> int:
    if "ContentRange" in parsed:
        raise DecryptionError("S3 returned a byte range that was not asked for; the object cannot be authenticated")
    length = parsed.get("ContentLength")
    if not isinstance(length, int):
        raise DecryptionError("S3 sent no Content-Length for the object; it cannot be authenticated")
    return length


def _check_envelope(config: EncryptionConfig, envelope: Envelope, ciphertext_length: int) -> None:
    suite = envelope.suite
    if suite.is_legacy:
        raise FormatError(
            f"the object is encrypted with the legacy unauthenticated suite {suite.name}, "
            "which this version of s3crypt does not read"
        )
    if not config.commitment_policy.may_decrypt(suite):
        raise FormatError(
            f"the object uses {suite.name}, which has no key commitment, and commitment_policy is "
            f"{config.commitment_policy.name}; create the client with "
            "commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT to read it"
        )
    declared = envelope.plaintext_length
    if declared is not None and declared != ciphertext_length - GCM_TAG_LENGTH:
        raise FormatError(
            f"the object's metadata gives a plaintext of {declared} bytes but it stores "
            f"{ciphertext_length} bytes of ciphertext: the object or its metadata was altered"
        )


def register(events: BaseEventHooks, config: EncryptionConfig) -> None:
    events.register("provide-client-params.s3.GetObject", check_parameters)
    events.register("after-call.s3.GetObject", functools.partial(decrypt_body, config))
