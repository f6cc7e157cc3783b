"""The asyncio client's event handlers: the sync client's own handlers wherever a step does no I/O (the guard,
every parameter check, part encryption, the upload state machine), and ``async def`` shells of the same core
decisions wherever a step awaits a keyring or S3 (aiobotocore awaits coroutine handlers on every event)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from s3crypt._operations import get as sync_get
from s3crypt._operations import guard
from s3crypt._operations import instruction as sync_instruction
from s3crypt._operations import multipart as sync_multipart
from s3crypt._operations import put as sync_put
from s3crypt.aio import copy, get, instruction, multipart, put, sent

if TYPE_CHECKING:
    from botocore.hooks import BaseEventHooks

    from s3crypt._config import EncryptionConfig
    from s3crypt._core.uploads import Uploads
    from s3crypt.aio.keyring import AsyncKeyring
    from s3crypt.aio.resources import Resources


def register(
    client: Any, config: EncryptionConfig, keyring: AsyncKeyring, uploads: Uploads, resources: Resources
) -> None:
    """Wire ``client``'s events to ``config``, its keyring, its open multipart ``uploads`` and its clients."""
    events: BaseEventHooks = client.meta.events
    guard.register(events, client.meta.service_model)
    ending = partial(multipart.forget_upload, resources, uploads)
    handlers: list[tuple[str, str, Any]] = [
        ("provide-client-params", "PutObject", partial(sync_put.check_parameters, config)),
        ("before-call", "PutObject", partial(put.encrypt_body, config, keyring)),
        ("before-call", "PutObject", sent.send_async),
        ("after-call", "PutObject", partial(put.write_instruction_file, resources)),
        ("provide-client-params", "GetObject", partial(sync_get.check_parameters, config)),
        ("after-call", "GetObject", partial(get.decrypt_body, config, keyring, resources)),
        ("provide-client-params", "CreateMultipartUpload", partial(sync_multipart.check_create, config)),
        ("before-call", "CreateMultipartUpload", partial(put.seal_upload, config, keyring)),
        ("after-call", "CreateMultipartUpload", partial(sync_multipart.open_upload, uploads)),
        ("provide-client-params", "UploadPart", sync_multipart.check_part),
        ("before-call", "UploadPart", partial(sync_multipart.encrypt_part, uploads)),
        ("before-call", "UploadPart", sent.send_async),
        ("provide-client-params", "UploadPartCopy", partial(sync_multipart.refuse_copied_part, uploads)),
        ("provide-client-params", "CompleteMultipartUpload", partial(multipart.check_completion, resources, uploads)),
        ("after-call", "CompleteMultipartUpload", ending),
        ("provide-client-params", "AbortMultipartUpload", sync_multipart.check_abort),
        ("after-call", "AbortMultipartUpload", ending),
    ]
    for operation in ("DeleteObject", "DeleteObjects"):
        handlers.append(("provide-client-params", operation, sync_instruction.check_delete))
        handlers.append(("after-call", operation, partial(instruction.delete_instruction_files, config, resources)))
    handlers.append(("provide-client-params", "CopyObject", partial(copy.check_copy, config, keyring, resources)))
    handlers.append(("after-call", "CopyObject", partial(copy.finish_copy, resources)))
    for event, operation, handler in handlers:
        events.register(f"{event}.s3.{operation}", handler)
    events.register_last("before-parameter-build", sync_get.skip_ciphertext_checksum)
