"""The asyncio client: aiobotocore's own S3 client class with the :class:`AioEncryptionClient` mixin, whose
events are wired to the same decisions as the sync client's."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterable, Callable
from typing import IO, TYPE_CHECKING, Any, TypeVar

from boto3.s3.transfer import TransferConfig

from s3crypt._client import EncryptionClient
from s3crypt._core.uploads import Uploads
from s3crypt._errors import ConfigurationError
from s3crypt._keyrings.cache import MeteredKeyring, Stats
from s3crypt._keyrings.kms_base import BaseKmsKeyring
from s3crypt._rewrap import Rewrapper
from s3crypt._transfer import Transfers
from s3crypt._transfer.extra_args import DOWNLOAD_ARGS, UPLOAD_ARGS
from s3crypt._transfer.manager import checked_transfer
from s3crypt.aio import handlers
from s3crypt.aio.blocking import in_thread, views
from s3crypt.aio.keyring import AsyncKeyring
from s3crypt.aio.resources import Resources
from s3crypt.aio.transfers import download, upload

if TYPE_CHECKING:
    from aiobotocore.session import AioSession

    from s3crypt._config import EncryptionConfig
    from s3crypt._keyrings.base import Keyring

T = TypeVar("T")
Callback = Callable[[int], Any] | None


class AioEncryptionClient(EncryptionClient):
    """Mixin of every asyncio s3crypt S3 client; ``isinstance(client, s3crypt.EncryptionClient)`` holds too.

    Its managed transfers and ``rewrap_object`` are awaitables with the sync client's signatures. Closing the
    client (``async with``, or ``await client.close()``) also closes the KMS and S3 clients it created.
    """

    _s3crypt_resources: Resources
    _s3crypt_async_keyring: AsyncKeyring
    _s3crypt_bound_config: EncryptionConfig
    """The config the handlers and transfers use: the user's, with the keyring bound to this client and metered."""
    _s3crypt_uploads: Uploads

    async def upload_file(  # type: ignore[override]
        self,
        Filename: str,
        Bucket: str,
        Key: str,
        ExtraArgs: dict[str, Any] | None = None,
        Callback: Callback = None,
        Config: TransferConfig | None = None,
    ) -> None:
        """Encrypt and upload a file, in concurrent parts above ``Config.multipart_threshold``."""
        transfer = checked_transfer(Bucket, Key, ExtraArgs, UPLOAD_ARGS, Callback, Config)
        await upload.upload_file(self, Filename, transfer)

    async def upload_fileobj(  # type: ignore[override]
        self,
        Fileobj: IO[bytes] | AsyncIterable[bytes] | Any,
        Bucket: str,
        Key: str,
        ExtraArgs: dict[str, Any] | None = None,
        Callback: Callback = None,
        Config: TransferConfig | None = None,
    ) -> None:
        """Encrypt and upload a stream of any length (it need not seek): a sync file object, an object with an
        async ``read`` (such as an ``aiofiles`` file), or an async iterable of bytes, read once, in order, a part
        at a time."""
        transfer = checked_transfer(Bucket, Key, ExtraArgs, UPLOAD_ARGS, Callback, Config)
        await upload.upload_fileobj(self, Fileobj, transfer)

    async def download_file(  # type: ignore[override]
        self,
        Bucket: str,
        Key: str,
        Filename: str,
        ExtraArgs: dict[str, Any] | None = None,
        Callback: Callback = None,
        Config: TransferConfig | None = None,
    ) -> None:
        """Download and decrypt to a file, which appears only once the object has been authenticated."""
        transfer = checked_transfer(Bucket, Key, ExtraArgs, DOWNLOAD_ARGS, Callback, Config)
        await download.download_file(self, Filename, transfer)

    async def download_fileobj(  # type: ignore[override]
        self,
        Bucket: str,
        Key: str,
        Fileobj: IO[bytes] | Any,
        ExtraArgs: dict[str, Any] | None = None,
        Callback: Callback = None,
        Config: TransferConfig | None = None,
    ) -> None:
        """Download and decrypt into a writable stream (a sync ``write``, or an async one such as an ``aiofiles``
        file's); nothing is written before the object is authenticated."""
        transfer = checked_transfer(Bucket, Key, ExtraArgs, DOWNLOAD_ARGS, Callback, Config)
        await download.download_fileobj(self, Fileobj, transfer)

    async def copy(  # type: ignore[override]
        self,
        CopySource: str | dict[str, str],
        Bucket: str,
        Key: str,
        ExtraArgs: dict[str, Any] | None = None,
        Callback: Callback = None,
        SourceClient: Any = None,
        Config: TransferConfig | None = None,
    ) -> None:
        """Copy an object server-side under the copy rules of :meth:`s3crypt.EncryptionClient.copy` (the sync
        client's copy, run in a worker thread: :mod:`s3crypt.aio.blocking`)."""
        if SourceClient is not None:
            raise ConfigurationError("an asyncio client's copy takes no SourceClient: it reads the source itself")
        await self._s3crypt_transfer(lambda t: t.copy(CopySource, Bucket, Key, ExtraArgs, Callback, None, Config))

    async def rewrap_object(  # type: ignore[override]
        self,
        *,
        Bucket: str,
        Key: str,
        new_keyring: Keyring,
        EncryptionContext: dict[str, str] | None = None,
        NewEncryptionContext: dict[str, str] | None = None,
        InstructionFileSuffix: str | None = None,
        NewInstructionFileSuffix: str | None = None,
        SSECustomerAlgorithm: str | None = None,
        SSECustomerKey: str | bytes | None = None,
    ) -> dict[str, Any]:
        """Re-wrap the object's data key under ``new_keyring``; see :meth:`s3crypt.EncryptionClient.rewrap_object`.

        A new KMS keyring without a KMS client uses this client's.
        """
        sse = {"SSECustomerAlgorithm": SSECustomerAlgorithm, "SSECustomerKey": SSECustomerKey}
        contexts = (EncryptionContext, NewEncryptionContext, InstructionFileSuffix, NewInstructionFileSuffix)
        sse_customer = {name: value for name, value in sse.items() if value is not None}
        kms = await self._s3crypt_resources.kms() if isinstance(new_keyring, BaseKmsKeyring) else None
        unhooked = await self._s3crypt_resources.unhooked()
        view = views(self, unhooked, self._s3crypt_bound_config, self._s3crypt_async_keyring, kms)
        rewrapper = Rewrapper(view.client, view.config, view.kms_factory)
        return await in_thread(
            lambda: rewrapper.rewrap_object(Bucket, Key, new_keyring, *contexts, sse_customer), view.cancelled
        )

    async def _s3crypt_transfer(self, work: Callable[[Transfers], T]) -> T:
        unhooked = await self._s3crypt_resources.unhooked()
        view = views(self, unhooked, self._s3crypt_bound_config, self._s3crypt_async_keyring, None)
        transfers = Transfers(view.client, view.config)
        return await in_thread(lambda: work(transfers), view.cancelled)

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
    client._s3crypt_config = config
    client._s3crypt_keyring = metered
    client._s3crypt_bound_config = bound
    client._s3crypt_async_keyring = AsyncKeyring(metered)
    client._s3crypt_uploads = Uploads()
    handlers.register(client, bound, client._s3crypt_async_keyring, client._s3crypt_uploads, resources)


def _no_sync_clients(service: str) -> Any:
    raise ConfigurationError(
        f"an asyncio client cannot give a keyring a sync {service} client: pass the keyring its own client"
    )
