"""Reading encrypted objects for ``s3crypt://``: sizing them and fetching them verified.

The steps are the asyncio client's own (its instruction-file reader, the core's envelope checks, its keyring
with its data-key cache); only the ciphertext is fetched here, by one plain GET through the client's unhooked
S3 client, and fed to a :class:`~s3crypt.fsspec.verified.VerifiedObject` as it arrives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from s3crypt.aio import instruction
from s3crypt.core.get import content_cipher_for, plaintext_length, unwrap_request
from s3crypt.crypto.streams import CHUNK_SIZE
from s3crypt.errors import ConfigurationError, NotEncryptedError
from s3crypt.format import instruction as instruction_format
from s3crypt.format import metadata
from s3crypt.fsspec.verified import VerifiedObject
from s3crypt.operations.params import encryption_context_for


@dataclass(frozen=True)
class Parts:
    """What ``s3crypt://`` uses of an asyncio encrypting client (its private parts, read here only; a test
    fails loudly if the client renames them)."""

    config: Any
    keyring: Any
    resources: Any

    @classmethod
    def of(cls, client: Any) -> Parts:
        return cls(client.encryption_config, client._s3crypt_async_keyring, client._s3crypt_resources)


async def envelope_metadata(
    parts: Parts, bucket: str, key: str, suffix: str, object_metadata: Mapping[str, str]
) -> dict[str, str]:
    """The object's crypto metadata, completed from its instruction file; :class:`NotEncryptedError` for a
    plaintext object."""
    return await instruction.completed(parts.resources, bucket, key, suffix, object_metadata)


def plaintext_size(stored_metadata: Mapping[str, str], content_length: int) -> int:
    """The object's plaintext size (GCM: less the tag; legacy CBC: as its metadata records it)."""
    size = plaintext_length(metadata.decode(stored_metadata), content_length)
    if size is None:
        raise ConfigurationError(
            "the legacy CBC object records no plaintext length, so s3crypt:// cannot size it; read it with "
            "s3crypt.client"
        )
    return size


def might_be_encrypted(object_metadata: Mapping[str, str]) -> bool:
    """Whether the metadata names crypto entries, or leaves the wrapped key to an instruction file."""
    return metadata.has_crypto_keys(object_metadata) or instruction_format.needed(object_metadata)


async def fetch_verified(
    client: Any,
    bucket: str,
    key: str,
    version: dict[str, str],
    encryption_context: Mapping[str, str],
    suffix: str,
) -> VerifiedObject:
    """The object fetched (``version``: ``VersionId`` or ``IfMatch``) and its tag verified."""
    parts = Parts.of(client)
    config = parts.config
    unhooked = await parts.resources.unhooked()
    response = await unhooked.get_object(Bucket=bucket, Key=key, **version)
    body = response["Body"]
    try:
        stored = await envelope_metadata(parts, bucket, key, suffix, response.get("Metadata") or {})
        context = encryption_context_for(config, dict(encryption_context), bucket, key)
        request = unwrap_request(config, stored, response["ContentLength"], context)
        if request.envelope.suite.is_legacy:
            raise ConfigurationError("s3crypt:// reads GCM objects; read this legacy CBC object with s3crypt.client")
        cipher = content_cipher_for(request.envelope, await parts.keyring.decrypt_data_key(*request.arguments))
        verified = VerifiedObject(cipher, response["ContentLength"], config.decrypt_memory_limit)
        try:
            while chunk := await body.read(CHUNK_SIZE):
                verified.feed(chunk)
            verified.finish()
        except BaseException:
            verified.close()
            raise
    finally:
        body.close()
    return verified


def not_encrypted(path: str) -> NotEncryptedError:
    return NotEncryptedError(
        f"{path} is not client-side encrypted; read it with s3://, or pass allow_plaintext=True to s3crypt:// "
        "to read plaintext objects as they are"
    )
