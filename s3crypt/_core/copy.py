"""Copies of encrypted objects, the decisions: what the destination's metadata, the copy's arguments and the
instruction file must be so that the envelope goes wherever the ciphertext goes.

S3 copies an object's bytes and, with ``MetadataDirective=COPY``, its metadata; it knows nothing of
instruction files or of an object bound to its location. :func:`plan` says what a copy needs beyond S3's copy;
:mod:`s3crypt._operations.copy` (``copy_object``) and the managed copy carry it out.
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from s3crypt._core.limits import check_metadata_size
from s3crypt._format import instruction as instruction_format
from s3crypt._format import metadata
from s3crypt._format.context import LOCATION_KEY

if TYPE_CHECKING:
    from s3crypt._config import EncryptionConfig

# What describes an object and a copy with MetadataDirective=REPLACE would otherwise drop.
KEPT_ATTRIBUTES = (
    "CacheControl",
    "ContentDisposition",
    "ContentEncoding",
    "ContentLanguage",
    "ContentType",
    "Expires",
    "WebsiteRedirectLocation",
    "StorageClass",
    "ServerSideEncryption",
    "SSEKMSKeyId",
    "BucketKeyEnabled",
)
_DIRECTIVES = ("MetadataDirective", "TaggingDirective", "AnnotationDirective")
# Arguments of the destination that every call of a copy in parts repeats.
_REPEATED = ("SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5", "RequestPayer", "ExpectedBucketOwner")
_COPY_SOURCE_SSE = ("CopySourceSSECustomerAlgorithm", "CopySourceSSECustomerKey", "CopySourceSSECustomerKeyMD5")

Location = tuple[str, str]


def as_copy_source(sse: Mapping[str, Any]) -> dict[str, Any]:
    """SSE-C parameters of an object, named as they are for the source of a copy."""
    return {f"CopySource{name}": value for name, value in sse.items()}


def source_sse(params: Mapping[str, Any]) -> dict[str, Any]:
    """The SSE-C parameters of a copy's source, named as they are to read it."""
    return {name[len("CopySource") :]: params[name] for name in _COPY_SOURCE_SSE if name in params}


def copy_source(source: str | Mapping[str, str]) -> tuple[str, str, str | None]:
    """Bucket, key and version of a CopySource, given as boto3 accepts it (a dict, or "bucket/key?versionId=")."""
    if isinstance(source, Mapping):
        return source["Bucket"], source["Key"], source.get("VersionId")
    path, _, query = source.partition("?versionId=")
    bucket, _, key = urllib.parse.unquote(path).lstrip("/").partition("/")
    return bucket, key, query or None


def rebinds(config: EncryptionConfig, stored: Mapping[str, str], source: Location, destination: Location) -> bool:
    """Whether the copy must wrap the data key again: the object is bound to its location, which changes."""
    bound = LOCATION_KEY in metadata.decode(dict(stored)).data_key.description
    return bound and config.bind_object_location and source != destination


@dataclasses.dataclass
class Plan:
    """What a copy of an encrypted object needs beyond S3's copy of its bytes."""

    envelope: dict[str, str]
    """The envelope entries the destination's metadata must carry."""
    rebound: bool = False
    """The data key was wrapped again for the destination: the metadata must be replaced."""
    instruction: dict[str, str] | None = None
    """Instruction-file entries to write for the destination, after the copy."""
    instruction_source: Location | None = None
    """An instruction file to copy as it is to the destination's, after the copy."""

    def instruction_to_write(self, destination: Location) -> tuple[str, str, dict[str, str]] | None:
        """The destination's instruction file to write once the object is copied: bucket, key and entries."""
        if self.instruction is None:
            return None
        bucket, key = destination
        return bucket, key + instruction_format.DEFAULT_SUFFIX, self.instruction

    def instruction_to_copy(self, destination: Location) -> dict[str, Any] | None:
        """The CopyObject request that gives the destination the source's instruction file as it is, if any."""
        if self.instruction is not None or self.instruction_source is None:
            return None
        (bucket, key), (source_bucket, source_key) = destination, self.instruction_source
        copy_source = {"Bucket": source_bucket, "Key": source_key}
        return {"Bucket": bucket, "Key": key + instruction_format.DEFAULT_SUFFIX, "CopySource": copy_source}


def plan(
    object_metadata: Mapping[str, str],
    rebound: dict[str, str] | None,
    source: Location,
    destination: Location,
    suffix: str,
) -> Plan:
    """What copying an encrypted object (its stored metadata ``object_metadata``) from ``source`` to
    ``destination`` needs; ``rebound`` is its envelope with the data key wrapped again, when :func:`rebinds`."""
    in_file = instruction_format.needed(object_metadata)
    envelope_entries = {key: value for key, value in object_metadata.items() if key.lower() in metadata.ALL_KEYS}
    result = Plan(envelope_entries)
    if rebound is not None:
        result.rebound = True
        if in_file:
            result.envelope, result.instruction = instruction_format.split(rebound)
        else:
            result.envelope = rebound
    elif in_file and source != destination:
        result.instruction_source = (source[0], source[1] + suffix)
    return result


def destination_metadata(the_plan: Plan, head: dict[str, Any], params: Mapping[str, Any]) -> dict[str, str]:
    """The destination's metadata: the caller's with REPLACE, else the source's user metadata; and the envelope."""
    if params.get("MetadataDirective") == "REPLACE":
        kept = dict(params.get("Metadata") or {})
    else:
        kept = {key: value for key, value in head["Metadata"].items() if key.lower() not in metadata.ALL_KEYS}
    check_metadata_size(kept, the_plan.envelope)
    return {**kept, **the_plan.envelope}


def multipart_arguments(
    the_plan: Plan | None,
    head: dict[str, Any],
    args: Mapping[str, Any],
    source: tuple[str, str, str | None],
    destination: Location,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``create_multipart_upload`` and ``upload_part_copy`` arguments of a copy in parts. The new upload
    starts with nothing of the source's, so it is given what ``copy_object`` would keep (the tags excepted:
    without ``TaggingDirective=REPLACE`` the caller copies them)."""
    bucket, key, version = source
    copy_source = {"Bucket": bucket, "Key": key, **({"VersionId": version} if version else {})}
    part_args: dict[str, Any] = {"CopySource": copy_source, "CopySourceIfMatch": head["ETag"]}
    part_args |= {name: value for name, value in args.items() if name in _REPEATED or name.startswith("CopySource")}
    create_args: dict[str, Any] = {"Bucket": destination[0], "Key": destination[1]}
    create_args |= {name: value for name, value in args.items() if name not in _DIRECTIVES and "CopySource" not in name}
    if args.get("TaggingDirective") != "REPLACE":
        create_args.pop("Tagging", None)
    replace = args.get("MetadataDirective") == "REPLACE"
    if not replace:
        create_args |= {name: head[name] for name in KEPT_ATTRIBUTES if name in head and name not in args}
    if the_plan is not None:
        create_args["Metadata"] = destination_metadata(the_plan, head, args)
    else:
        create_args["Metadata"] = dict(args.get("Metadata") or {}) if replace else head["Metadata"]
    return create_args, part_args
