"""Botocore event handlers that turn S3 calls into calls of the crypto, format and keyring layers.

Per-call state travels in botocore's request ``context`` under :data:`CONTEXT_KEY`, never on the client,
so one client can be shared between threads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from s3crypt.operations import copy, get, guard, instruction, multipart, put
from s3crypt.operations.multipart import Uploads

if TYPE_CHECKING:
    from botocore.hooks import BaseEventHooks

    from s3crypt.config import EncryptionConfig


def register(client: Any, config: EncryptionConfig, uploads: Uploads) -> None:
    """Wire ``client``'s events to ``config`` and to its open multipart ``uploads``."""
    events: BaseEventHooks = client.meta.events
    guard.register(events, client.meta.service_model)
    put.register(events, config, client)
    get.register(events, config, client)
    multipart.register(events, config, uploads, client)
    instruction.register(events, config, client)
    copy.register(events, config, client)
