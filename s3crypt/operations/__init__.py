"""Botocore event handlers that turn S3 calls into calls of the crypto, format and keyring layers.

Per-call state travels in botocore's request ``context`` under :data:`CONTEXT_KEY`, never on the client,
so one client can be shared between threads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from s3crypt.operations import get, multipart, put
from s3crypt.operations.multipart import Uploads

if TYPE_CHECKING:
    from botocore.hooks import BaseEventHooks

    from s3crypt.config import EncryptionConfig


def register(events: BaseEventHooks, config: EncryptionConfig, uploads: Uploads) -> None:
    """Wire one client's events to ``config`` and to its open multipart ``uploads``."""
    put.register(events, config)
    get.register(events, config)
    multipart.register(events, config, uploads)
