"""Reading encrypted objects for ``s3crypt://``: sizing them and fetching them verified.

The steps are the asyncio client's own (its instruction-file reader, the core's envelope checks, its keyring
with its data-key cache); only the ciphertext is fetched here, by one plain GET through the client's unhooked
S3 client, and fed to a :class:`~s3crypt.fsspec.verified.VerifiedObject` as it arrives. A legacy CBC object,
which has no tag, is read through the client itself, which decrypts it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from s3crypt._core.get import content_cipher_for, plaintext_length, unwrap_request
from s3crypt._crypto.streams import CHUNK_SIZE
from s3crypt._errors import ConfigurationError, NotEncryptedError
from s3crypt._format import metadata
from s3crypt._operations.params import encryption_context_for
from s3crypt.aio import instruction
from s3crypt.fsspec.verified import DecryptedCopy, VerifiedObject


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
            "the legacy CBC object records no plaintext length, so s3crypt:// cannot size it (readers seek from "
            "its end); read it with s3crypt.client"
        )
    return size


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
    context = encryption_context_for(config, dict(encryption_context), bucket, key)
    try:
        stored = await envelope_metadata(parts, bucket, key, suffix, response.get("Metadata") or {})
        request = unwrap_request(config, stored, response["ContentLength"], context)
        if not request.envelope.suite.is_legacy:
            cipher = content_cipher_for(request.envelope, await parts.keyring.decrypt_data_key(*request.arguments))
            verified = VerifiedObject(cipher, response["ContentLength"], config.decrypt_memory_limit)
            await _fill(verified, body)
            return verified
    finally:
        body.close()
    size = plaintext_size(stored, response["ContentLength"])
    return await _decrypted_copy(client, bucket, key, version, encryption_context, size, config.decrypt_memory_limit)


async def _decrypted_copy(
    client: Any,
    bucket: str,
    key: str,
    version: dict[str, str],
    encryption_context: Mapping[str, str],
    size: int,
    memory_limit: int,
) -> VerifiedObject:
    """A legacy CBC object, as the client decrypts it (``enable_legacy_unauthenticated_modes``)."""
    context = {"EncryptionContext": dict(encryption_context)} if encryption_context else {}
    response = await client.get_object(Bucket=bucket, Key=key, **version, **context)
    async with response["Body"] as body:
        copy = DecryptedCopy(size, memory_limit)
        await _fill(copy, body)
        return copy


async def _fill(verified: VerifiedObject, body: Any) -> None:
    """Feed ``verified`` the whole body: each chunk's crypto and spooling in a worker thread while the next
    chunk arrives, so the event loop (s3fs's, shared by every file of the filesystem) keeps serving."""
    feeding: asyncio.Future[None] | None = None
    try:
        while chunk := await body.read(CHUNK_SIZE):
            if feeding is not None:
                await feeding
            feeding = asyncio.ensure_future(asyncio.to_thread(verified.feed, chunk))
        if feeding is not None:
            await feeding
        verified.finish()
    except BaseException:
        if feeding is not None:
            await asyncio.gather(feeding, return_exceptions=True)  # the thread stops using the spool first
        verified.close()
        raise


def not_encrypted(path: str) -> NotEncryptedError:
    return NotEncryptedError(
        f"{path} is not client-side encrypted; read it with s3://, or pass allow_plaintext=True to s3crypt:// "
        "to read plaintext objects as they are"
    )
