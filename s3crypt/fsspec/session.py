"""How ``s3crypt://`` plugs into s3fs and fsspec: the session whose S3 clients encrypt, and the metaclass that
keys fsspec's instance cache on the keyring's identity."""

from __future__ import annotations

from typing import Any

import s3fs
from aiobotocore.session import AioSession

import s3crypt.aio
from s3crypt.fsspec import options


class Tokenized(type(s3fs.S3FileSystem)):  # type: ignore[misc]
    """fsspec's instance cache, keyed on a secret-free identity of the keyring (see :mod:`.options`); options
    arriving from another process are rebuilt first."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        kwargs = options.received(kwargs)
        if "keyring" in kwargs:
            kwargs[options.IDENTITY] = options.keyring_identity(kwargs["keyring"])
        return super().__call__(*args, **kwargs)


class EncryptingSession:
    """The aiobotocore session s3fs is given: its S3 clients are s3crypt's encrypting clients."""

    def __init__(self, encryption: dict[str, Any], session_kwargs: dict[str, Any]) -> None:
        self._session = s3crypt.aio.Session(AioSession(**session_kwargs))
        self._encryption = encryption

    def create_client(self, service_name: str, **kwargs: Any) -> Any:
        if service_name != "s3":
            return self._session.aiobotocore_session.create_client(service_name, **kwargs)
        return self._session.create_client("s3", **self._encryption, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session.aiobotocore_session, name)
