"""The multipart upload's state machine: one GCM message per upload, its parts given their places in order.

The rules are the module docstring of :mod:`s3crypt._operations.multipart`; :class:`Uploads` enforces them on
the caller's own multipart calls for every shell (the botocore handlers, an asyncio client). A managed upload
does not go through it: the transfer seals the object itself and sends its parts, already encrypting, through
the unhooked client.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from s3crypt._crypto.streams import GcmMessage, check_plaintext_length
from s3crypt._errors import ConfigurationError

MIN_PART_SIZE = 5 * 1024 * 1024
"""S3's smallest part but the last: an unmarked part smaller than this can only be the last one."""


def is_last_part(marked: bool | None, length: int) -> bool:
    """Whether a part ends the message: as the caller marked it (``IsLastPart``) or, unmarked, by its size."""
    return marked if marked is not None else length < MIN_PART_SIZE


def with_tag_part(parts: list[dict[str, Any]], tag_part: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    """The parts a completion must list when s3crypt sent a part holding only the tag; None when ``parts``
    already do."""
    if tag_part is None or any(part.get("PartNumber") == tag_part["PartNumber"] for part in parts):
        return None
    return [*parts, tag_part]


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
