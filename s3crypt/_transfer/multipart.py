"""One managed multipart upload: seal it, create it, send its parts on a pool of threads, complete it, or abort it.

The upload is s3crypt's own: every request of it goes through the unhooked client, so neither s3crypt's handlers
nor the user's run on them, and its parts are already encrypting (:class:`EncryptingStream`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from s3crypt._compat import DEFAULT_CHECKSUM_ALGORITHM
from s3crypt._core.put import KeyRequest, check_metadata, key_request
from s3crypt._core.transfers import SentPart, completion_params, creation_params, part_params, seal_creation, sent_part
from s3crypt._crypto.streams import EncryptingStream, GcmMessage
from s3crypt._format.instruction import DEFAULT_SUFFIX
from s3crypt._operations import instruction
from s3crypt._operations.put import take_put_state
from s3crypt._operations.unhooked import unhooked
from s3crypt._transfer.utils import Transfer, concurrency

if TYPE_CHECKING:
    from s3crypt._config import EncryptionConfig


@dataclass(frozen=True)
class PartSender:
    """Sends the parts of one multipart upload."""

    client: Any
    upload_id: str
    params: Mapping[str, Any]
    """The creation's parameters."""
    failed: threading.Event = field(default_factory=threading.Event)
    """Set once a part fails: the parts queued behind it are not sent (the upload is aborted)."""

    def send(self, number: int, body: EncryptingStream) -> SentPart | None:
        """Send part ``number``; its ``body`` encrypts it at its offset (and ends with the tag if it is the last)."""
        if self.failed.is_set():  # the failed part's future raises its own error
            return None
        params = self.params
        try:
            response = self.client.upload_part(
                Bucket=params["Bucket"],
                Key=params["Key"],
                UploadId=self.upload_id,
                PartNumber=number,
                Body=body,
                **part_params(params),
            )
        except BaseException:
            self.failed.set()
            raise
        return sent_part(number, response)


SendParts = Callable[
    [PartSender, GcmMessage, concurrent.futures.Executor], list["concurrent.futures.Future[SentPart | None]"]
]
"""Submits the sending of every part to the pool; the futures of the parts."""


def upload_in_parts(client: Any, config: EncryptionConfig, transfer: Transfer, send_parts: SendParts) -> None:
    """Seal the object, create its upload, send its parts, complete it; abort it if anything fails.

    The envelope goes into the creation's metadata, or into the instruction file written once the upload completes.
    """
    bucket, key = transfer.bucket, transfer.key
    checksums = client.meta.config.request_checksum_calculation
    params = creation_params(bucket, key, transfer.args, checksums, DEFAULT_CHECKSUM_ALGORITHM)
    request = creation_key_request(config, params)
    sealed = seal_creation(params, request, config.keyring.generate_data_key(*request.arguments))
    own = unhooked(client)
    upload_id = own.create_multipart_upload(**params)["UploadId"]
    try:
        sender = PartSender(own, upload_id, params)
        with concurrent.futures.ThreadPoolExecutor(concurrency(transfer.config)) as pool:
            futures = send_parts(sender, sealed.message, pool)
            try:
                parts = [part for future in concurrent.futures.as_completed(futures) if (part := future.result())]
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)  # send no more parts of a failed upload
                raise
        own.complete_multipart_upload(**completion_params(params, upload_id, parts))
        if sealed.instruction is not None:
            instruction.write(client, bucket, key + DEFAULT_SUFFIX, sealed.instruction)
    except BaseException:
        with contextlib.suppress(Exception):
            own.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        raise


def creation_key_request(config: EncryptionConfig, params: dict[str, Any]) -> KeyRequest:
    """Take s3crypt's parameters out of the creation's ``params`` and check them; what to ask the keyring for to
    seal the upload, as ``create_multipart_upload`` on the encrypting client does."""
    state = take_put_state(config, params)
    check_metadata(params)
    caller_metadata = params.get("Metadata") or {}
    return key_request(config, caller_metadata, state.encryption_context, None, instruction_file=state.instruction_file)
