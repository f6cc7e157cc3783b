"""The decisions of a managed transfer, shared by the sync and the asyncio shells.

An upload: how it is cut into parts, what its multipart upload is created with (the envelope in its metadata),
what every part repeats, what completes it. A download: how the object is cut into ranges, how far they have
arrived contiguously from the start, where a range cut short resumes and how often, and where the file is
written before it is renamed into place.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from s3crypt._core.put import is_precomputed_checksum, seal
from s3crypt._errors import ConfigurationError

if TYPE_CHECKING:
    from s3crypt._core.put import KeyRequest, Sealed
    from s3crypt._keyrings.base import DataKey

MAX_PARTS = 10_000

PART_ARGS = frozenset(
    {"SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5", "RequestPayer", "ExpectedBucketOwner"}
)
"""The upload arguments every part (and the completion) repeats; the others belong to the creation only."""

SentPart = dict[str, Any]
"""What CompleteMultipartUpload needs of a part: its number, ETag and checksum."""


@dataclass(frozen=True)
class Part:
    """Part ``number`` of an upload: ``length`` bytes of plaintext from ``offset``; the last ends with the tag."""

    number: int
    offset: int
    length: int
    last: bool


def part_size(size: int, chunk_size: int) -> int:
    """The configured part size, grown if the object would need more than S3's 10,000 parts."""
    return max(chunk_size, -(-size // MAX_PARTS))


def plan_parts(size: int, chunk_size: int) -> list[Part]:
    """The parts of an upload of ``size`` bytes known in advance (a file)."""
    length = part_size(size, chunk_size)
    offsets = range(0, size, length)
    return [
        Part(number, offset, min(length, size - offset), number == len(offsets))
        for number, offset in enumerate(offsets, start=1)
    ]


def check_part_number(number: int, chunk_size: int) -> None:
    """Refuse part ``number`` of a stream of unknown length past S3's limit, before it is read any further."""
    if number > MAX_PARTS:
        raise ConfigurationError(
            f"the stream needs more than {MAX_PARTS} parts of {chunk_size} bytes: "
            "raise multipart_chunksize in the TransferConfig"
        )


def creation_params(
    bucket: str, key: str, args: Mapping[str, Any], checksum_calculation: str, default_algorithm: str
) -> dict[str, Any]:
    """CreateMultipartUpload's parameters before sealing: a client that checksums every request it can names
    its default algorithm, as s3transfer does, so the parts may carry it."""
    params = {"Bucket": bucket, "Key": key, **args}
    if checksum_calculation == "when_supported":
        params = {"ChecksumAlgorithm": default_algorithm, **params}
    return params


def seal_creation(params: dict[str, Any], request: KeyRequest, data_key: DataKey) -> Sealed:
    """Seal the upload created with ``params`` under ``data_key``: the envelope joins the caller's metadata."""
    caller_metadata = params.get("Metadata") or {}
    sealed = seal(request, caller_metadata, data_key)
    params["Metadata"] = {**caller_metadata, **sealed.metadata}
    return sealed


def part_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """What every UploadPart repeats of the creation's parameters."""
    return {name: value for name, value in params.items() if name in PART_ARGS or name == "ChecksumAlgorithm"}


def sent_part(number: int, response: Mapping[str, Any]) -> SentPart:
    """What the completion needs of part ``number`` from its UploadPart response."""
    checksums = {name: value for name, value in response.items() if is_precomputed_checksum(name)}
    return {"ETag": response["ETag"], "PartNumber": number, **checksums}


def completion_params(params: Mapping[str, Any], upload_id: str, parts: list[SentPart]) -> dict[str, Any]:
    """CompleteMultipartUpload's parameters: the parts in order, and the arguments every call repeats."""
    return {
        "Bucket": params["Bucket"],
        "Key": params["Key"],
        "UploadId": upload_id,
        "MultipartUpload": {"Parts": sorted(parts, key=lambda part: part["PartNumber"])},
        **{name: value for name, value in params.items() if name in PART_ARGS},
    }


class Ranges:
    """The ranges a download of ``size`` bytes is fetched in, and how far each has been written from its start.

    One range below ``threshold``, else ranges of ``chunk_size``. Not thread-safe: a sync shell guards it with
    its own lock.
    """

    def __init__(self, size: int, threshold: int, chunk_size: int) -> None:
        self.size = size
        part = chunk_size if size >= threshold else max(size, 1)
        self.starts = list(range(0, size, max(1, part)))
        self.ends = [*self.starts[1:], size]
        self._written = list(self.starts)
        self._frontier = 0  # the first range not yet whole

    def __len__(self) -> int:
        return len(self.starts)

    def missing(self, index: int) -> tuple[int, int]:
        """Bytes ``[start, end)`` of range ``index`` still to fetch: a range cut short resumes where it stopped."""
        return self._written[index], self.ends[index]

    def wrote(self, index: int, position: int) -> bool:
        """Range ``index`` is written up to ``position``; whether that may move :meth:`contiguous` on."""
        self._written[index] = position
        return index == self._frontier

    def beyond(self, offset: int) -> int | None:
        """How far the bytes have been written contiguously from the start, once that is past ``offset`` (or is the
        whole object); None while a reader at ``offset`` must wait."""
        contiguous = self.contiguous()
        return contiguous if contiguous > offset or contiguous == self.size else None

    def contiguous(self) -> int:
        """How far the bytes have been written contiguously from the start."""
        while self._frontier < len(self.starts) and self._written[self._frontier] == self.ends[self._frontier]:
            self._frontier += 1
        return self.size if self._frontier == len(self.starts) else self._written[self._frontier]


def range_header(start: int, end: int) -> str:
    """The ``Range`` of a GET of bytes ``[start, end)``."""
    return f"bytes={start}-{end - 1}"


def fetch_again(attempt: int, attempts: int) -> bool:
    """Whether a range cut short after ``attempt`` tries is fetched again: up to ``num_download_attempts`` in all,
    as s3transfer does (botocore retries a request, not the reading of its body)."""
    return attempt < max(1, attempts)


def temporary_beside(target: str, token: str) -> str:
    """Where ``download_file`` writes before renaming into ``target``: a hidden file in the same directory."""
    directory, name = os.path.split(os.path.abspath(target))
    return os.path.join(directory, f".{name}.{token}.s3crypt")
