"""Both front ends under one test: the sync client, and the asyncio client seen through a blocking facade.

A module marked ``pytest.mark.front_ends`` runs each test that uses ``s3c`` or ``s3c_v2`` twice. The asyncio run
builds an ``s3crypt.aio`` client on a moto server in this process (``ThreadedMotoServer``), which shares the
in-process moto state of ``mock_aws``: the test's plain boto3 clients, KMS keys and keyrings see the same
buckets and keys. :class:`Blocking` runs each call on an event loop in a background thread, so the sync test's
code drives the asyncio client unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from s3crypt._operations.unhooked import Unhooked
from s3crypt.testing import TEST_CREDENTIALS, TEST_REGION

FRONT_ENDS = ("sync", "asyncio")


class Blocking:
    """A sync view of an asyncio client: its coroutine methods block until done, its bodies read synchronously."""

    def __init__(self, client: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._client = client
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute) or isinstance(attribute, type):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            return self._blocking(self._run(result) if inspect.isawaitable(result) else result)

        return call

    @property
    def _s3crypt_unhooked(self) -> Unhooked:
        """The view of the asyncio client's unhooked client, for :func:`s3crypt._operations.unhooked.unhooked`."""
        return Unhooked(lambda: Blocking(self._run(self._client._s3crypt_resources.unhooked()), self._loop))

    def _run(self, awaitable: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(awaitable, self._loop).result()

    def _blocking(self, result: Any) -> Any:
        if isinstance(result, dict) and hasattr(result.get("Body"), "iter_chunks"):
            result = {**result, "Body": BlockingBody(result["Body"], self._run)}
        return result


class BlockingBody:
    """A sync view of an aiobotocore body."""

    def __init__(self, body: Any, run: Any) -> None:
        self._body = body
        self._run = run

    def read(self, amt: int | None = None) -> bytes:
        data: bytes = self._run(self._body.read(amt))
        return data

    def iter_chunks(self, chunk_size: int = 1024) -> Iterator[bytes]:
        while chunk := self.read(chunk_size):
            yield chunk

    def iter_lines(self, chunk_size: int = 1024, keepends: bool = False) -> Iterator[bytes]:
        pending = b""
        for chunk in self.iter_chunks(chunk_size):
            lines = (pending + chunk).splitlines(True)
            for line in lines[:-1]:
                yield line.splitlines(keepends)[0]
            pending = lines[-1]
        if pending:
            yield pending.splitlines(keepends)[0]

    def __iter__(self) -> Iterator[bytes]:
        return self.iter_chunks()

    def tell(self) -> int:
        position: int = self._body.tell()
        return position

    def close(self) -> None:
        self._body.close()

    def __enter__(self) -> BlockingBody:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()


@contextmanager
def asyncio_client(**options: Any) -> Iterator[Blocking]:
    """An asyncio s3crypt client with ``options``; without an ``endpoint_url``, on a moto server sharing this
    process's mocked AWS."""
    import s3crypt.aio

    with contextlib.ExitStack() as stack:
        if "endpoint_url" not in options:
            options = {"endpoint_url": stack.enter_context(_shared_moto_server()), **TEST_CREDENTIALS, **options}
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        stack.callback(loop.close)
        stack.callback(thread.join)
        stack.callback(loop.call_soon_threadsafe, loop.stop)
        context = s3crypt.aio.Session().create_client("s3", **{"region_name": TEST_REGION, **options})
        client = asyncio.run_coroutine_threadsafe(context.__aenter__(), loop).result()
        yield Blocking(client, loop)
        asyncio.run_coroutine_threadsafe(context.__aexit__(None, None, None), loop).result()


@contextmanager
def _shared_moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
