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

import dataclasses
import functools
import io
import threading
from typing import TYPE_CHECKING, Any

from s3crypt.crypto.streams import EncryptingStream, GcmMessage, check_plaintext_length
from s3crypt.errors import ConfigurationError
from s3crypt.format.instruction import DEFAULT_SUFFIX
from s3crypt.operations import instruction
from s3crypt.operations.params import call_state, take_encryption_context, take_raw
from s3crypt.operations.put import (
    check_checksums,
    check_metadata,
    encrypt_request_body,
    is_precomputed_checksum,
    plaintext_length,
    plaintext_source,
    seal,
    take_instruction_file,
)

MIN_PART_SIZE = 5 * 1024 * 1024
"""S3's smallest part but the last: an unmarked part smaller than this can only be the last one."""
_REPEATED_ARGS = ("SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5", "RequestPayer", "ExpectedBucketOwner")

if TYPE_CHECKING:
    from botocore.hooks import BaseEventHooks

    from s3crypt.config import EncryptionConfig


@dataclasses.dataclass
class Upload:
    """An open multipart upload: its message and the parts given to it so far."""

    message: GcmMessage
    instruction: dict[str, str] | None = None
    """The instruction file to write once the upload completes, if the object has one."""
    part_number: int = 0
    """The number of the latest part, whose plaintext is ``[offset, offset + length)``."""
    offset: int = 0
    length: int = 0
    last: bool = False
    tag_part: dict[str, Any] | None = None
    """The part holding only the tag that s3crypt sent at completion, which every completion must list."""


class Uploads:
    """The client's open uploads by UploadId; safe to share between threads."""

    def __init__(self) -> None:
        self._uploads: dict[str, Upload] = {}
        self._lock = threading.Lock()

    def open(self, upload_id: str, message: GcmMessage, instruction: dict[str, str] | None = None) -> None:
        with self._lock:
            self._uploads[upload_id] = Upload(message, instruction)

    def message(self, upload_id: str) -> GcmMessage:
        with self._lock:
            return self._get(upload_id).message

    def is_open(self, upload_id: str) -> bool:
        with self._lock:
            return upload_id in self._uploads

    def close(self, upload_id: str) -> Upload | None:
        with self._lock:
            return self._uploads.pop(upload_id, None)

    def next_part(self, upload_id: str, part_number: int, length: int, last: bool) -> Upload:
        """Give ``part_number`` its place in the message; a copy of the upload's state after it."""
        with self._lock:
            upload = self._get(upload_id)
            if part_number == upload.part_number:
                raise ConfigurationError(
                    f"part {part_number} was already sent: sending it again would encrypt new bytes with the same "
                    "keystream (botocore's own retries resend identical bytes and are fine); abort the upload "
                    "and start again"
                )
            if upload.last:
                raise ConfigurationError(
                    f"part {upload.part_number} ended the encrypted message (it was marked IsLastPart=True, or was "
                    "unmarked and smaller than S3's 5 MiB minimum, which only the last part may be): complete the "
                    "upload, or abort it"
                )
            if part_number != upload.part_number + 1:
                raise ConfigurationError(
                    f"part {part_number} is out of order: an encrypted upload takes its parts in order and "
                    f"once each, so the next part is {upload.part_number + 1}"
                )
            end = upload.offset + upload.length
            if upload.message.fed != end:
                raise ConfigurationError(
                    f"part {upload.part_number} was not sent whole yet: upload the parts one after another"
                )
            check_plaintext_length(end + length)
            upload.part_number, upload.offset, upload.length, upload.last = part_number, end, length, last
            return dataclasses.replace(upload)

    def mark_last(self, upload_id: str) -> None:
        with self._lock:
            self._get(upload_id).last = True

    def unended(self, upload_id: str) -> Upload | None:
        """A copy of the upload if it is open and no part ended its message yet."""
        with self._lock:
            upload = self._uploads.get(upload_id)
            return None if upload is None or upload.last else dataclasses.replace(upload)

    def sent_tag_part(self, upload_id: str, part: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Record the part holding only the tag (when given); the one recorded, if any."""
        with self._lock:
            upload = self._uploads.get(upload_id)
            if upload is None:
                return None
            if part is not None:
                upload.tag_part = part
            return upload.tag_part

    def _get(self, upload_id: str) -> Upload:
        try:
            return self._uploads[upload_id]
        except KeyError:
            raise ConfigurationError(
                f"upload {upload_id!r} was not created by this client, or is already completed or aborted: "
                "an encrypted upload's parts go through the client that created it"
            ) from None


def check_create(config: EncryptionConfig, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if take_raw(params, context):
        return
    take_encryption_context(config, params, context)
    take_instruction_file(config, params, context)
    check_metadata(params)


def seal_upload(config: EncryptionConfig, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    state = call_state(context)
    if not state["raw"]:
        state["message"] = seal(config, params["headers"], context, None)


def open_upload(
    uploads: Uploads, parsed: dict[str, Any], http_response: Any, context: dict[str, Any], **_: Any
) -> None:
    state = call_state(context)
    if http_response.status_code < 300 and not state["raw"]:
        uploads.open(parsed["UploadId"], state["message"], state.get("instruction"))


def check_part(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if take_raw(params, context):
        return
    check_checksums(params)
    last = params.pop("IsLastPart", None)  # None: unmarked, decided by the part's size
    if last is not None and not isinstance(last, bool):
        raise ConfigurationError("IsLastPart must be True or False")
    state = call_state(context)
    state["last"] = last
    state["part"] = (params.get("UploadId"), params.get("PartNumber"))
    state["prepared"] = isinstance(params.get("Body"), EncryptingStream)


def encrypt_part(uploads: Uploads, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    state = call_state(context)
    if state["raw"]:
        return
    if state["prepared"]:  # a part of s3crypt's own managed upload, already encrypting
        if state["last"]:
            uploads.mark_last(state["part"][0])
        return
    upload_id, part_number = state["part"]
    source = plaintext_source(params)
    length = plaintext_length(source, params["headers"])
    last = state["last"] if state["last"] is not None else length < MIN_PART_SIZE
    upload = uploads.next_part(upload_id, part_number, length, last)
    encrypt_request_body(params, source, length, upload.message, upload.offset, last=upload.last)


def check_completion(client: Any, uploads: Uploads, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """``provide-client-params`` of CompleteMultipartUpload: end the message with a part holding only the tag
    when no part ended it, and list that part in the completion (in a retried completion too)."""
    if not remember_upload_id(params, context):
        return
    upload_id = params["UploadId"]
    upload = uploads.unended(upload_id)
    if upload is not None:
        uploads.sent_tag_part(upload_id, _send_tag_part(client, uploads, upload, params))
    tag_part = uploads.sent_tag_part(upload_id)
    listed = (params.get("MultipartUpload") or {}).get("Parts") or []
    if tag_part is not None and all(part.get("PartNumber") != tag_part["PartNumber"] for part in listed):
        params["MultipartUpload"] = {**params.get("MultipartUpload", {}), "Parts": [*listed, tag_part]}


def _send_tag_part(client: Any, uploads: Uploads, upload: Upload, params: dict[str, Any]) -> dict[str, Any]:
    upload_id = params["UploadId"]
    if upload.part_number == 0:
        raise ConfigurationError("no part was uploaded: upload at least one part before completing the upload")
    number = upload.part_number + 1
    tag_part = uploads.next_part(upload_id, number, 0, True)
    body = EncryptingStream(io.BytesIO(b""), 0, tag_part.message, tag_part.offset, last=True)
    repeated = {name: params[name] for name in _REPEATED_ARGS if name in params}
    response = client.upload_part(
        Bucket=params["Bucket"], Key=params["Key"], UploadId=upload_id, PartNumber=number, Body=body, **repeated
    )
    listed = (params.get("MultipartUpload") or {}).get("Parts") or []
    checksums = {name for part in listed for name in part if is_precomputed_checksum(name)}
    return {"ETag": response["ETag"], "PartNumber": number, **{name: response[name] for name in checksums}}


def refuse_copied_part(uploads: Uploads, params: dict[str, Any], **_: Any) -> None:
    if uploads.is_open(params.get("UploadId", "")):
        raise ConfigurationError(
            "upload_part_copy cannot go into an encrypted upload: the copied bytes would not be part of its "
            "GCM message; upload them with upload_part"
        )


def remember_upload_id(params: dict[str, Any], context: dict[str, Any], **_: Any) -> bool:
    """Note which upload the call ends; False for s3crypt's own raw uploads, which are not tracked."""
    if take_raw(params, context):
        return False
    state = call_state(context)
    state["upload_id"] = params["UploadId"]
    state["location"] = (params.get("Bucket"), params.get("Key"))
    return True


def check_abort(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    remember_upload_id(params, context)  # a provide-client-params handler returns None, or replaces the params


def forget_upload(
    client: Any, uploads: Uploads, model: Any, http_response: Any, context: dict[str, Any], **_: Any
) -> None:
    state = call_state(context)
    status = http_response.status_code
    if state["raw"] or not (status < 300 or status == 404):  # only when done, or gone (NoSuchUpload)
        return
    upload = uploads.close(state["upload_id"])
    if status < 300 and model.name == "CompleteMultipartUpload" and upload is not None and upload.instruction:
        bucket, key = state["location"]
        instruction.write(client, bucket, key + DEFAULT_SUFFIX, upload.instruction)


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
