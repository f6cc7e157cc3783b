"""s3crypt's own requests: instruction files, the raw reads and writes of copies and key rotation.

They go through an *unhooked* client: a plain boto3 S3 client of the same boto3 session, with the encrypting
client's region and the options it was created with (endpoint, config, credentials), created on first use
and kept with the encrypting client. None of s3crypt's handlers run on it, so its requests are sent as they
are, and neither do event handlers the user registers on the encrypting client (``client.meta.events``):
those see the user's own calls only, never s3crypt's instruction files or copies.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Unhooked:
    """The unhooked client of one encrypting client, created by ``create`` on first use; thread safe."""

    def __init__(self, create: Callable[[], Any]) -> None:
        self._create = create
        self._client: Any = None
        self._lock = threading.Lock()

    def __call__(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._create()
            return self._client


def unhooked(client: Any) -> Any:
    """The client to send s3crypt's own requests with: the unhooked client of an encrypting ``client``, or
    ``client`` itself when it is a plain boto3 client."""
    holder: Unhooked | None = getattr(client, "_s3crypt_unhooked", None)
    return client if holder is None else holder()
