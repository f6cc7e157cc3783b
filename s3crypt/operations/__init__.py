"""Botocore event handlers: the sync client's thin shell over :mod:`s3crypt.core`.

Each handler reads the call's parameters or response, asks the core what to do, makes the keyring call the
core asks for, and applies the answer. Per-call state travels in botocore's request ``context`` as one
dataclass per operation (:mod:`s3crypt.operations.state`), never on the client, so one client can be shared
between threads. s3crypt's own requests go through the unhooked client (:mod:`s3crypt.operations.unhooked`).
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
