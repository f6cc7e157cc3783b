"""One managed multipart upload on the asyncio client: sealed (the keyring awaited), created, its parts sent as
tasks at most ``max_concurrency`` at once, completed; aborted if anything fails or the transfer is cancelled.

Every request of it goes through the unhooked client, as for the sync client (:mod:`s3crypt._transfer.multipart`),
whose decisions it makes with the same code (:mod:`s3crypt._core.transfers`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from s3crypt._compat import DEFAULT_CHECKSUM_ALGORITHM
from s3crypt._core.transfers import SentPart, completion_params, creation_params, part_params, seal_creation, sent_part
from s3crypt._format.instruction import DEFAULT_SUFFIX
from s3crypt._transfer.multipart import creation_key_request
from s3crypt._transfer.utils import Transfer, concurrency
from s3crypt.aio import instruction
from s3crypt.aio.sent import SentBody
from s3crypt.aio.transfers.tasks import settle

if TYPE_CHECKING:
    from s3crypt._crypto.streams import EncryptingStream, GcmMessage


@dataclass
class Upload:
    """A multipart upload under way: sends its parts, ``max_concurrency`` at a time."""

    client: Any
    """The unhooked client."""
    upload_id: str
    params: Mapping[str, Any]
    """The creation's parameters."""
    message: GcmMessage
    slots: asyncio.Semaphore
    failed: bool = field(default=False)
    """Set once a part fails: the parts waiting behind it are not sent."""

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[bool]:
        """One of the ``max_concurrency`` slots to send a part in: whether to send it (not once a part has failed).

        A failure inside marks the upload failed before the slot is freed, so no part waiting for it is sent.
        """
        async with self.slots:
            try:
                yield not self.failed
            except BaseException:
                self.failed = True
                raise

    async def send(self, number: int, body: EncryptingStream) -> SentPart:
        """Send part ``number``; its ``body`` encrypts it at its offset (and ends with the tag if it is the last)."""
        params = self.params
        response = await self.client.upload_part(
            Bucket=params["Bucket"],
            Key=params["Key"],
            UploadId=self.upload_id,
            PartNumber=number,
            Body=SentBody(body),
            **part_params(params),
        )
        return sent_part(number, response)


SendParts = Callable[[Upload], Awaitable[list[SentPart]]]
"""Sends every part of the upload; what the completion needs of them."""


async def upload_in_parts(client: Any, transfer: Transfer, send_parts: SendParts) -> None:
    """Seal the object, create its upload, send its parts, complete it; abort it if anything fails.

    The envelope goes into the creation's metadata, or into the instruction file written once the upload completes.
    """
    resources = client._s3crypt_resources
    checksums = client.meta.config.request_checksum_calculation
    params = creation_params(transfer.bucket, transfer.key, transfer.args, checksums, DEFAULT_CHECKSUM_ALGORITHM)
    request = creation_key_request(client._s3crypt_bound_config, params)
    data_key = await client._s3crypt_async_keyring.generate_data_key(*request.arguments)
    sealed = seal_creation(params, request, data_key)
    own = await resources.unhooked()
    upload_id = await _create(own, params)
    try:
        slots = asyncio.Semaphore(concurrency(transfer.config))
        parts = await send_parts(Upload(own, upload_id, params, sealed.message, slots))
        await own.complete_multipart_upload(**completion_params(params, upload_id, parts))
        if sealed.instruction is not None:
            await instruction.write(resources, transfer.bucket, transfer.key + DEFAULT_SUFFIX, sealed.instruction)
    except BaseException:
        await settle(_abort(own, params, upload_id))
        raise


async def _create(own: Any, params: dict[str, Any]) -> str:
    """Create the upload; if the transfer is cancelled meanwhile, abort the upload once it exists."""
    creating = asyncio.ensure_future(own.create_multipart_upload(**params))
    try:
        upload_id: str = (await asyncio.shield(creating))["UploadId"]
    except asyncio.CancelledError:
        await settle(_abort(own, params, None, creating))
        raise
    return upload_id


async def _abort(own: Any, params: Mapping[str, Any], upload_id: str | None, creating: Any = None) -> None:
    with contextlib.suppress(Exception):
        if upload_id is None:
            upload_id = (await creating)["UploadId"]
        await own.abort_multipart_upload(Bucket=params["Bucket"], Key=params["Key"], UploadId=upload_id)
