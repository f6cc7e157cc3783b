"""The multipart API: one GCM message per upload, parts encrypted in order, the tag at the end of the last part.

``create_multipart_upload`` writes the envelope into the object's metadata and opens the upload's
:class:`GcmMessage`, which :class:`Uploads` keeps by UploadId until the upload completes or is aborted.
``upload_part`` takes the parts one after another (``PartNumber`` 1, 2, ...), each after the one before was
sent whole; the last one is marked ``IsLastPart=True`` and carries the tag. Libraries written for boto3 do not
mark it: an unmarked part smaller than S3's 5 MiB minimum can only be the last, so it ends the message, and
when no part ended it, ``complete_multipart_upload`` first sends one more part holding only the tag (S3 allows
a last part of any size). A part is sent once: botocore's
retries inside one ``upload_part`` resend identical ciphertext, but a second ``upload_part`` of the same part
could carry other bytes under the same keystream, so it is refused.
"""

from __future__ import annotations

import functools
import io
from typing import TYPE_CHECKING, Any

from s3crypt._core.put import check_checksums, check_metadata, is_precomputed_checksum
from s3crypt._core.uploads import MIN_PART_SIZE, Upload, Uploads, is_last_part, with_tag_part
from s3crypt._crypto.streams import EncryptingStream
from s3crypt._errors import ConfigurationError
from s3crypt._format.instruction import DEFAULT_SUFFIX
from s3crypt._operations import instruction
from s3crypt._operations.params import location
from s3crypt._operations.put import (
    encrypt_request_body,
    plaintext_length,
    plaintext_source,
    seal,
    take_put_state,
)
from s3crypt._operations.state import EndUploadState, PartState, PutState, is_presign, keep, state_of
from s3crypt._operations.unhooked import unhooked

__all__ = ["MIN_PART_SIZE", "Upload", "Uploads", "register"]
_REPEATED_ARGS = ("SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5", "RequestPayer", "ExpectedBucketOwner")

if TYPE_CHECKING:
    from botocore.hooks import BaseEventHooks

    from s3crypt._config import EncryptionConfig


def check_create(config: EncryptionConfig, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if is_presign(context):
        return
    keep(context, take_put_state(config, params))
    check_metadata(params)


def seal_upload(config: EncryptionConfig, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    state = state_of(context, PutState)
    if state is not None:
        state.message = seal(config, params["headers"], state, None)


def open_upload(
    uploads: Uploads, parsed: dict[str, Any], http_response: Any, context: dict[str, Any], **_: Any
) -> None:
    state = state_of(context, PutState)
    if http_response.status_code < 300 and state is not None and state.message is not None:
        uploads.open(parsed["UploadId"], state.message, state.instruction)


def check_part(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if is_presign(context):
        return
    check_checksums(params)
    last = params.pop("IsLastPart", None)  # None: unmarked, decided by the part's size
    if last is not None and not isinstance(last, bool):
        raise ConfigurationError("IsLastPart must be True or False")
    keep(context, PartState(params.get("UploadId", ""), params.get("PartNumber", 0), last))


def encrypt_part(uploads: Uploads, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    state = state_of(context, PartState)
    if state is None:
        return
    source = plaintext_source(params)
    length = plaintext_length(source, params["headers"])
    upload = uploads.next_part(state.upload_id, state.part_number, length, is_last_part(state.last, length))
    encrypt_request_body(params, source, length, upload.message, upload.offset, last=upload.last)


def check_completion(client: Any, uploads: Uploads, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """``provide-client-params`` of CompleteMultipartUpload: end the message with a part holding only the tag
    when no part ended it, and list that part in the completion (in a retried completion too)."""
    if not remember_upload_id(params, context):
        return
    tag_part = tag_part_call(uploads, params)
    if tag_part is not None:
        response = unhooked(client).upload_part(**tag_part)
        uploads.sent_tag_part(params["UploadId"], listed_tag_part(params, tag_part, response))
    list_tag_part(uploads, params)


def tag_part_call(uploads: Uploads, params: dict[str, Any]) -> dict[str, Any] | None:
    """The UploadPart parameters of the part holding only the tag (already encrypted), to send through the
    unhooked client before the completion; None when a part already ended the message."""
    upload_id = params["UploadId"]
    upload = uploads.unended(upload_id)
    if upload is None:
        return None
    if upload.part_number == 0:
        raise ConfigurationError("no part was uploaded: upload at least one part before completing the upload")
    number = upload.part_number + 1
    tag_part = uploads.next_part(upload_id, number, 0, True)
    body = EncryptingStream(io.BytesIO(b""), 0, tag_part.message, tag_part.offset, last=True)
    repeated = {name: params[name] for name in _REPEATED_ARGS if name in params}
    location = {"Bucket": params["Bucket"], "Key": params["Key"]}
    return {**location, "UploadId": upload_id, "PartNumber": number, "Body": body, **repeated}


def listed_tag_part(params: dict[str, Any], call: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """The completion's entry of the tag part sent by ``call``, with the checksums the caller's parts list."""
    listed = (params.get("MultipartUpload") or {}).get("Parts") or []
    checksums = {name for part in listed for name in part if is_precomputed_checksum(name)}
    return {"ETag": response["ETag"], "PartNumber": call["PartNumber"], **{name: response[name] for name in checksums}}


def list_tag_part(uploads: Uploads, params: dict[str, Any]) -> None:
    """List the tag part s3crypt sent in the completion's parts, if the caller's list lacks it."""
    listed = (params.get("MultipartUpload") or {}).get("Parts") or []
    parts = with_tag_part(listed, uploads.sent_tag_part(params["UploadId"]))
    if parts is not None:
        params["MultipartUpload"] = {**params.get("MultipartUpload", {}), "Parts": parts}


def refuse_copied_part(uploads: Uploads, params: dict[str, Any], **_: Any) -> None:
    if uploads.is_open(params.get("UploadId", "")):
        raise ConfigurationError(
            "upload_part_copy cannot go into an encrypted upload: the copied bytes would not be part of its "
            "GCM message; upload them with upload_part"
        )


def remember_upload_id(params: dict[str, Any], context: dict[str, Any], **_: Any) -> bool:
    """Note which upload the call ends; False for a presigned URL, which s3crypt leaves alone."""
    if is_presign(context):
        return False
    keep(context, EndUploadState(*location(params), params["UploadId"]))
    return True


def check_abort(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    remember_upload_id(params, context)  # a provide-client-params handler returns None, or replaces the params


def forget_upload(
    client: Any, uploads: Uploads, model: Any, http_response: Any, context: dict[str, Any], **_: Any
) -> None:
    if (pending := forget(uploads, model, http_response, context)) is not None:
        instruction.write(client, *pending)


def forget(
    uploads: Uploads, model: Any, http_response: Any, context: dict[str, Any]
) -> tuple[str, str, dict[str, str]] | None:
    """``after-call`` of CompleteMultipartUpload and AbortMultipartUpload: forget the upload once it is done (or
    gone: NoSuchUpload); the bucket, key and entries of the instruction file a completed upload needs, if any."""
    state = state_of(context, EndUploadState)
    status = http_response.status_code
    if state is None or not (status < 300 or status == 404):
        return None
    upload = uploads.close(state.upload_id)
    if status < 300 and model.name == "CompleteMultipartUpload" and upload is not None and upload.instruction:
        return state.bucket, state.key + DEFAULT_SUFFIX, upload.instruction
    return None


def register(events: BaseEventHooks, config: EncryptionConfig, uploads: Uploads, client: Any) -> None:
    events.register("provide-client-params.s3.CreateMultipartUpload", functools.partial(check_create, config))
    events.register("before-call.s3.CreateMultipartUpload", functools.partial(seal_upload, config))
    events.register("after-call.s3.CreateMultipartUpload", functools.partial(open_upload, uploads))
    events.register("provide-client-params.s3.UploadPart", check_part)
    events.register("before-call.s3.UploadPart", functools.partial(encrypt_part, uploads))
    events.register("provide-client-params.s3.UploadPartCopy", functools.partial(refuse_copied_part, uploads))
    events.register(
        "provide-client-params.s3.CompleteMultipartUpload", functools.partial(check_completion, client, uploads)
    )
    events.register("provide-client-params.s3.AbortMultipartUpload", check_abort)
    for operation in ("CompleteMultipartUpload", "AbortMultipartUpload"):
        events.register(f"after-call.s3.{operation}", functools.partial(forget_upload, client, uploads))
