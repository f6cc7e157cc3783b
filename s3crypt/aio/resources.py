"""The clients an asyncio encrypting client needs beside itself: its unhooked S3 client and its KMS client.

Both are aiobotocore clients of the same session, created on first use under a lock (so many tasks asking at
once make one client) and closed with the encrypting client. The unhooked client sends s3crypt's own requests
(instruction files, the tag part, copies), as :mod:`s3crypt._operations.unhooked` does for the sync client.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from s3crypt._keyrings.kms import with_user_agent

if TYPE_CHECKING:
    from aiobotocore.session import AioSession

KMS_CLIENT_KWARGS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "verify", "config")
"""The S3 client's arguments a KMS client s3crypt creates shares (not its endpoint: KMS has its own)."""


class Resources:
    """The lazily created clients of one asyncio encrypting client, closed by :meth:`aclose`."""

    def __init__(self, session: AioSession, client_kwargs: dict[str, Any], region_name: str | None) -> None:
        self._session = session
        self._s3_kwargs = {**client_kwargs, "region_name": region_name}
        kms_kwargs = {name: client_kwargs[name] for name in KMS_CLIENT_KWARGS if name in client_kwargs}
        config = with_user_agent(kms_kwargs.get("config"))
        self._kms_kwargs = {**kms_kwargs, "region_name": region_name, "config": config}
        self._stack = contextlib.AsyncExitStack()
        self._clients: dict[str, Any] = {}
        self._lock = asyncio.Lock()

    async def unhooked(self) -> Any:
        """A plain S3 client like the encrypting one (same session, region and options)."""
        return await self._client("s3", self._s3_kwargs)

    async def kms(self) -> Any:
        """A KMS client of the same session, region and credentials, with s3crypt's user agent."""
        return await self._client("kms", self._kms_kwargs)

    async def _client(self, service: str, kwargs: dict[str, Any]) -> Any:
        async with self._lock:
            if service not in self._clients:
                context = self._session.create_client(service, **kwargs)
                self._clients[service] = await self._stack.enter_async_context(context)
            return self._clients[service]

    async def aclose(self) -> None:
        """Close every client created; a second call does nothing."""
        self._clients.clear()
        await self._stack.aclose()
