"""The multipart API on the asyncio client: the sync client's upload state machine and part encryption
(:mod:`s3crypt._operations.multipart`), with the tag part and the instruction file sent through the unhooked
aiobotocore client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from s3crypt._operations.multipart import forget, list_tag_part, listed_tag_part, remember_upload_id, tag_part_call
from s3crypt.aio import instruction

if TYPE_CHECKING:
    from s3crypt._core.uploads import Uploads
    from s3crypt.aio.resources import Resources


async def check_completion(
    resources: Resources, uploads: Uploads, params: dict[str, Any], context: dict[str, Any], **_: Any
) -> None:
    """``provide-client-params`` of CompleteMultipartUpload: send the tag part if no part ended the message."""
    if not remember_upload_id(params, context):
        return
    tag_part = tag_part_call(uploads, params)
    if tag_part is not None:
        response = await (await resources.unhooked()).upload_part(**tag_part)
        uploads.sent_tag_part(params["UploadId"], listed_tag_part(params, tag_part, response))
    list_tag_part(uploads, params)


async def forget_upload(
    resources: Resources, uploads: Uploads, model: Any, http_response: Any, context: dict[str, Any], **_: Any
) -> None:
    """``after-call`` of CompleteMultipartUpload and AbortMultipartUpload."""
    if (pending := forget(uploads, model, http_response, context)) is not None:
        await instruction.write(resources, *pending)
