"""The asyncio client: aiobotocore's own S3 client class with the :class:`AioEncryptionClient` mixin, whose
events are wired to the same decisions as the sync client's."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from s3crypt.aio import handlers
from s3crypt.aio.keyring import AsyncKeyring
from s3crypt.aio.resources import Resources
from s3crypt.client import EncryptionClient
from s3crypt.core.uploads import Uploads
from s3crypt.errors import ConfigurationError
from s3crypt.keyrings.cache import MeteredKeyring, Stats
from s3crypt.keyrings.kms_base import BaseKmsKeyring

if TYPE_CHECKING:
    from aiobotocore.session import AioSession

    from s3crypt.config import EncryptionConfig


class AioEncryptionClient(EncryptionClient):
    """Mixin of every asyncio s3crypt S3 client; ``isinstance(client, s3crypt.EncryptionClient)`` holds too.

    Closing the client (``async with`` or ``await client.close()``) also closes the KMS and S3 clients it
    created for its own requests.
    """

    _s3crypt_resources: Resources
    _s3crypt_keyring: AsyncKeyring

    async def close(self) -> None:
        await self._s3crypt_resources.aclose()
        await super().close()  # type: ignore[misc]

    async def __aexit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        await self._s3crypt_resources.aclose()
        await super().__aexit__(exc_type, exc_value, traceback)  # type: ignore[misc]


async def attach(client: Any, session: AioSession, config: EncryptionConfig, client_kwargs: dict[str, Any]) -> None:
    """Give a new client its encryption: its keyring bound to an aiobotocore KMS client (when it needs one s3crypt
    creates), its open uploads, the clients for its own requests, its handlers."""
    resources = Resources(session, client_kwargs, client.meta.region_name)
    client._s3crypt_resources = resources
    keyring = config.keyring
    if isinstance(keyring, BaseKmsKeyring) and keyring.kms_client is None:
        kms = await resources.kms()
        keyring = keyring.bind(lambda _service: kms)
    else:
        keyring = keyring.bind(_no_sync_clients)
    metered = MeteredKeyring(keyring, config.data_key_cache, Stats())
    bound = dataclasses.replace(config, keyring=metered)
    client._s3crypt_config = bound
    client._s3crypt_keyring = AsyncKeyring(metered)
    handlers.register(client, bound, client._s3crypt_keyring, Uploads(), resources)


def _no_sync_clients(service: str) -> Any:
    raise ConfigurationError(
        f"an asyncio client cannot give a keyring a sync {service} client: pass the keyring its own client"
    )
