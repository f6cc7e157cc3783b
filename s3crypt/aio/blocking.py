"""The sync client's managed copy and key rotation, run for the asyncio client in a worker thread.

:mod:`s3crypt._transfer.copies` and :mod:`s3crypt._rewrap` hold every decision of a managed copy (what it keeps
or rewrites of the envelope, a multipart copy) and of a rotation. The asyncio client runs them unchanged in a
worker thread, over blocking views of itself, of its unhooked client and of its keyring: each S3 or KMS call
they make is a task on the event loop (so the HTTP I/O is aiobotocore's), awaited by the worker thread; nothing
on the loop waits for the thread. (Uploads and downloads are native: :mod:`s3crypt.aio.transfers`.)
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from s3crypt._crypto.suites import AlgorithmSuite
from s3crypt._errors import ConfigurationError
from s3crypt._format.metadata import EncryptedDataKey
from s3crypt._keyrings.base import DataKey, Keyring
from s3crypt._operations.unhooked import Unhooked
from s3crypt.aio.reads import close_soon, read

if TYPE_CHECKING:
    from s3crypt._config import EncryptionConfig
    from s3crypt.aio.keyring import AsyncKeyring

T = TypeVar("T")
_AFTER_CANCEL = frozenset({"abort_multipart_upload"})
"""The only calls a cancelled transfer still makes: the clean-up of what it started."""


class Blocking:
    """A blocking view of an aiobotocore client for a worker thread: each call runs on the client's event loop.

    Bodies of responses read synchronously. Once the transfer is cancelled, every call but an abort raises
    :class:`asyncio.CancelledError`, so the sync transfer stops and cleans up.
    """

    _s3crypt_unhooked: Unhooked | None = None
    """The view of the unhooked client, for :func:`s3crypt._operations.unhooked.unhooked`."""

    def __init__(self, client: Any, loop: asyncio.AbstractEventLoop, cancelled: threading.Event) -> None:
        self._client = client
        self._loop = loop
        self._cancelled = cancelled

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute) or isinstance(attribute, type):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._cancelled.is_set() and name not in _AFTER_CANCEL:
                raise asyncio.CancelledError(f"the transfer was cancelled before {name}")
            result = attribute(*args, **kwargs)
            if inspect.isawaitable(result):
                result = on_loop(self._loop, result)
            if isinstance(result, dict) and hasattr(result.get("Body"), "iter_chunks"):
                result = {**result, "Body": BlockingBody(result["Body"], self._loop)}
            return result

        return call


class BlockingBody:
    """A blocking view of an aiobotocore response body (``read``, ``close``, a context manager)."""

    def __init__(self, body: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._body = body
        self._loop = loop

    def read(self, amt: int | None = None) -> bytes:
        return on_loop(self._loop, read(self._body, amt))

    def close(self) -> None:
        self._loop.call_soon_threadsafe(close_soon, self._body)

    def __enter__(self) -> BlockingBody:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()


class BlockingKeyring(Keyring):
    """The asyncio client's keyring (its metering and cache included), called from a worker thread."""

    def __init__(self, keyring: AsyncKeyring, loop: asyncio.AbstractEventLoop) -> None:
        self._keyring = keyring
        self._loop = loop
        self.binds_encryption_context = keyring.metered.binds_encryption_context  # type: ignore[misc]

    def generate_data_key(
        self, suite: AlgorithmSuite, encryption_context: Mapping[str, str], plaintext_length: int | None = None
    ) -> DataKey:
        return on_loop(self._loop, self._keyring.generate_data_key(suite, encryption_context, plaintext_length))

    def wrap_data_key(
        self, data_key: bytes, suite: AlgorithmSuite, encryption_context: Mapping[str, str]
    ) -> EncryptedDataKey:
        inner = self._keyring.metered.inner
        return on_loop(self._loop, self._keyring.wrap_data_key(inner, data_key, suite, encryption_context))

    def decrypt_data_key(
        self, encrypted: EncryptedDataKey, suite: AlgorithmSuite, encryption_context: Mapping[str, str]
    ) -> bytes:
        return on_loop(self._loop, self._keyring.decrypt_data_key(encrypted, suite, encryption_context))

    def check(self, encrypted: EncryptedDataKey, suite: AlgorithmSuite, encryption_context: Mapping[str, str]) -> None:
        self._keyring.metered.inner.check(encrypted, suite, encryption_context)


def on_loop(loop: asyncio.AbstractEventLoop, awaitable: Awaitable[T]) -> T:
    """Run ``awaitable`` on ``loop`` from a worker thread and wait for its result."""
    return asyncio.run_coroutine_threadsafe(_awaited(awaitable), loop).result()


async def _awaited(awaitable: Awaitable[T]) -> T:
    return await awaitable


@dataclasses.dataclass(frozen=True)
class Views:
    """Blocking views of one asyncio client for one transfer, and the flag that cancels it."""

    client: Blocking
    config: EncryptionConfig
    cancelled: threading.Event
    kms: Blocking | None

    def kms_factory(self, service: str) -> Any:
        """The :data:`~s3crypt._keyrings.base.ClientFactory` of a new keyring: the view of the KMS client."""
        if self.kms is None or service != "kms":
            raise ConfigurationError(f"an asyncio client has no sync {service} client to give a keyring")
        return self.kms


def views(client: Any, unhooked: Any, config: EncryptionConfig, keyring: AsyncKeyring, kms: Any) -> Views:
    """Blocking views of ``client`` (whose unhooked client is ``unhooked``, and KMS client ``kms`` if any) for a
    transfer on the running loop."""
    loop = asyncio.get_running_loop()
    cancelled = threading.Event()
    blocking = Blocking(client, loop, cancelled)
    plain = Blocking(unhooked, loop, cancelled)
    blocking._s3crypt_unhooked = Unhooked(lambda: plain)
    sync_config = dataclasses.replace(config, keyring=BlockingKeyring(keyring, loop))
    kms_view = None if kms is None else Blocking(kms, loop, cancelled)
    return Views(blocking, sync_config, cancelled, kms_view)


async def in_thread(work: Callable[[], T], cancelled: threading.Event) -> T:
    """Run ``work`` in a worker thread; if the awaiting task is cancelled, stop it and wait for its clean-up."""
    future = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        cancelled.set()
        with contextlib.suppress(BaseException):
            await future
        raise
