"""``s3crypt.aio.Session``: creates encrypting aiobotocore S3 clients, as ``s3crypt.Session`` creates boto3 ones.

aiobotocore emits ``creating-client-class.s3`` while it builds a client class, inside the client context's
``__aenter__`` (not in ``create_client``, which does no work). So :class:`EncryptingClientContext` sets the
context variable that lets the mixin in around that ``__aenter__``; plain clients of the same session stay plain.
"""

from __future__ import annotations

import contextvars
from typing import Any

from aiobotocore.session import AioSession

from s3crypt._client import split_options
from s3crypt._config import EncryptionConfig
from s3crypt._errors import ConfigurationError
from s3crypt._keyrings.base import Keyring
from s3crypt.aio.client import AioEncryptionClient, attach

_creating = contextvars.ContextVar("s3crypt_creating_aio_client", default=False)


def _add_mixin(base_classes: list[type], **_: Any) -> None:
    if _creating.get():
        base_classes.insert(0, AioEncryptionClient)


class Session:
    """Creates encrypting aiobotocore S3 clients from an aiobotocore session (by default a new one)."""

    def __init__(self, aiobotocore_session: AioSession | None = None) -> None:
        self.aiobotocore_session = aiobotocore_session if aiobotocore_session is not None else AioSession()
        self.aiobotocore_session.get_component("event_emitter").register_last(
            "creating-client-class.s3", _add_mixin, unique_id="s3crypt-aio-encryption-client-mixin"
        )

    @classmethod
    def from_aioboto3(cls, aioboto3_session: Any) -> Session:
        """A session over the aiobotocore session of an ``aioboto3.Session`` (its credentials, profile, region)."""
        return cls(aiobotocore_session_of(aioboto3_session))

    def create_client(
        self, service_name: str, *, keyring: Keyring | None = None, kms_key_id: str | None = None, **kwargs: Any
    ) -> EncryptingClientContext:
        """``AioSession.create_client("s3", ...)`` whose objects are encrypted on put and decrypted on get; use
        it with ``async with``.

        Takes the encryption options of :func:`s3crypt.client` (exactly one of ``keyring`` and ``kms_key_id``,
        and the fields of :class:`s3crypt.EncryptionConfig`); every other argument goes to aiobotocore.
        """
        config, client_kwargs = split_options(service_name, keyring, kms_key_id, kwargs)
        return EncryptingClientContext(self.aiobotocore_session, config, client_kwargs)


class EncryptingClientContext:
    """``async with`` gives the encrypting client and closes it (and the clients it created) at the end."""

    def __init__(self, session: AioSession, config: EncryptionConfig, client_kwargs: dict[str, Any]) -> None:
        self._session = session
        self._config = config
        self._client_kwargs = client_kwargs
        self._context: Any = None

    async def __aenter__(self) -> Any:
        token = _creating.set(True)
        try:
            self._context = self._session.create_client("s3", **self._client_kwargs)
            client = await self._context.__aenter__()
        finally:
            _creating.reset(token)
        try:
            await attach(client, self._session, self._config, self._client_kwargs)
        except BaseException:
            await self._context.__aexit__(None, None, None)
            raise
        return client

    async def __aexit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        await self._context.__aexit__(exc_type, exc_value, traceback)


def aiobotocore_session_of(aioboto3_session: Any) -> AioSession:
    """The aiobotocore session inside an aioboto3 session: aioboto3 keeps it in its private ``_session``, read
    here only (a test fails loudly if aioboto3 moves it)."""
    session = getattr(aioboto3_session, "_session", None)
    if not isinstance(session, AioSession):
        raise ConfigurationError("expected an aioboto3.Session, whose aiobotocore session s3crypt builds on")
    return session


_default_session: Session | None = None


def create_client(service_name: str, **kwargs: Any) -> EncryptingClientContext:
    """:meth:`Session.create_client` on a session of s3crypt's own (aiobotocore keeps no default session)."""
    global _default_session
    if _default_session is None:
        _default_session = Session()
    return _default_session.create_client(service_name, **kwargs)
