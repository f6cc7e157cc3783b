"""Per-call state: one small dataclass per operation, kept in botocore's request ``context`` for one call.

A ``provide-client-params`` handler stores the state of a call s3crypt handles; the later handlers of the
same call find it with :func:`state_of`, and a call without it (a presigned URL) is left as boto3 makes it.
Nothing is kept on the client, so one client can be shared between threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from s3crypt.core.copy import Plan
    from s3crypt.core.get import GetPlan
    from s3crypt.crypto.streams import GcmMessage

CONTEXT_KEY = "s3crypt"
State = TypeVar("State")


def keep(context: dict[str, Any], state: State) -> State:
    """Store ``state`` as this call's state."""
    context[CONTEXT_KEY] = state
    return state


def state_of(context: dict[str, Any], kind: type[State]) -> State | None:
    """This call's state if s3crypt handles the call (None for a presigned URL)."""
    state = context.get(CONTEXT_KEY)
    return state if isinstance(state, kind) else None


def is_presign(context: dict[str, Any]) -> bool:
    """A presigned URL, which s3crypt leaves as boto3 makes it: it is used without s3crypt."""
    return bool(context.get("is_presign_request"))


@dataclass
class PutState:
    """PutObject, and CreateMultipartUpload (which seals the object its parts will make up)."""

    bucket: str
    key: str
    encryption_context: dict[str, str]
    instruction_file: bool
    instruction: dict[str, str] | None = None
    """The instruction file's entries, once sealed, when the object has one."""
    message: GcmMessage | None = field(default=None, repr=False)
    """The sealed message of a multipart upload, which its parts continue."""


@dataclass
class GetState:
    bucket: str
    key: str
    suffix: str
    """Where the object's instruction file is, if it has one."""
    encryption_context: dict[str, str]
    plan: GetPlan


@dataclass
class PartState:
    """UploadPart."""

    upload_id: str
    part_number: int
    last: bool | None
    """``IsLastPart`` as the caller gave it; None when unmarked, decided by the part's size."""
    prepared: bool
    """The body is already an encrypting stream (a part of a managed upload)."""


@dataclass
class EndUploadState:
    """CompleteMultipartUpload and AbortMultipartUpload."""

    bucket: str
    key: str
    upload_id: str


@dataclass
class DeleteState:
    """DeleteObject and DeleteObjects: the keys whose instruction files go with them."""

    bucket: str
    suffix: str
    keys: list[str]


@dataclass
class CopyState:
    """CopyObject of an encrypted source."""

    plan: Plan
    destination: tuple[str, str]
