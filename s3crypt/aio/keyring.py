"""The awaitable face of one asyncio client's keyring: the same metering and data-key cache as the sync client's
:class:`~s3crypt._keyrings.cache.MeteredKeyring`, and the keyring's calls made without blocking the event loop.

A KMS keyring whose KMS client is an aiobotocore client (the one s3crypt creates, or one the caller passed)
awaits KMS natively, through the keyring's own requests, response readers and error mapping
(:mod:`s3crypt._keyrings.kms_base`). Any other keyring (one holding a sync boto3 KMS client, RSA, the caller's
own) is a sync keyring and runs in a worker thread; the AES keyring, which does no I/O and takes microseconds,
runs inline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from aiobotocore.client import AioBaseClient

from s3crypt._crypto.suites import AlgorithmSuite
from s3crypt._format.metadata import EncryptedDataKey
from s3crypt._keyrings.aes import AesKeyring
from s3crypt._keyrings.base import DataKey, Keyring
from s3crypt._keyrings.cache import MeteredKeyring
from s3crypt._keyrings.kms import KmsKeyring
from s3crypt._keyrings.kms_base import BaseKmsKeyring, KmsRequest, KmsResponse
from s3crypt._keyrings.kms_errors import KMS_ERRORS

T = TypeVar("T")


def is_async_client(client: Any) -> bool:
    return isinstance(client, AioBaseClient)


class AsyncKeyring:
    """One asyncio client's keyring: counts its KMS calls, serves data keys from the cache, awaits the rest."""

    def __init__(self, metered: MeteredKeyring) -> None:
        self.metered = metered
        self._inner: Keyring = metered.inner

    async def generate_data_key(
        self, suite: AlgorithmSuite, encryption_context: Mapping[str, str], plaintext_length: int | None = None
    ) -> DataKey:
        metered = self.metered
        key = metered.encrypt_cache_key(suite, encryption_context)
        if metered.cache is None or key is None:
            return await self._generate(suite, encryption_context)
        data_key, hit = await metered.cache.use_async(
            key, plaintext_length or 0, lambda: self._generate(suite, encryption_context)
        )
        metered.note(hit, "encrypt", encryption_context)
        return data_key

    async def decrypt_data_key(
        self, encrypted: EncryptedDataKey, suite: AlgorithmSuite, encryption_context: Mapping[str, str]
    ) -> bytes:
        metered = self.metered
        self._inner.check(encrypted, suite, encryption_context)  # every object, cached key or not
        key = metered.decrypt_cache_key(encrypted, suite)
        if metered.cache is None or key is None:
            return await self._decrypt(encrypted, suite, encryption_context)

        async def fetch() -> DataKey:
            return DataKey(await self._decrypt(encrypted, suite, encryption_context), encrypted)

        data_key, hit = await metered.cache.use_async(key, 0, fetch)
        metered.note(hit, "decrypt", encryption_context)
        return data_key.plaintext

    async def wrap_data_key(
        self, keyring: Keyring, data_key: bytes, suite: AlgorithmSuite, encryption_context: Mapping[str, str]
    ) -> EncryptedDataKey:
        """``data_key`` wrapped by ``keyring`` (a new keyring, for key rotation; counted as this client's call)."""
        if keyring.calls_kms:
            self.metered.stats.count("kms_calls")
        if isinstance(keyring, KmsKeyring) and is_async_client(keyring.kms_client):
            request = keyring.encrypt_request(data_key, suite, encryption_context)
            response = await _kms(keyring.kms_client, "encrypt", request, keyring.encrypt_failed)
            return keyring.encrypted_key_from(response, request)
        return await off_loop(keyring, keyring.wrap_data_key, data_key, suite, encryption_context)

    async def _generate(self, suite: AlgorithmSuite, encryption_context: Mapping[str, str]) -> DataKey:
        inner = self._inner
        self.metered.count_call()
        if isinstance(inner, KmsKeyring) and is_async_client(inner.kms_client):
            request = inner.generate_request(suite, encryption_context)
            response = await _kms(inner.kms_client, "generate_data_key", request, inner.generate_failed)
            return inner.data_key_from(response, request)
        return await off_loop(inner, inner.generate_data_key, suite, encryption_context)

    async def _decrypt(
        self, encrypted: EncryptedDataKey, suite: AlgorithmSuite, encryption_context: Mapping[str, str]
    ) -> bytes:
        inner = self._inner
        self.metered.count_call()
        if isinstance(inner, BaseKmsKeyring) and is_async_client(inner.kms_client):
            request = inner.decrypt_request(encrypted, suite, encryption_context)
            return inner.plaintext_from(await _kms(inner.kms_client, "decrypt", request, inner.decrypt_failed))
        return await off_loop(inner, inner.decrypt_data_key, encrypted, suite, encryption_context)


async def off_loop(keyring: Keyring, method: Callable[..., T], *args: Any) -> T:
    """A sync keyring's call, in a worker thread unless the keyring is one that never waits (AES)."""
    if type(keyring) is AesKeyring:
        return method(*args)
    return await asyncio.to_thread(method, *args)


async def _kms(
    client: Any, operation: str, request: KmsRequest, failed: Callable[[Exception], Exception]
) -> KmsResponse:
    """One awaited KMS call; ``failed(error)`` raised if it fails, as the sync keyrings do."""
    call: Callable[..., Awaitable[KmsResponse]] = getattr(client, operation)
    try:
        return await call(**request)
    except KMS_ERRORS as error:
        raise failed(error) from error
