"""Copies of encrypted objects: the envelope goes wherever the ciphertext goes.

S3 copies an object's bytes and, with ``MetadataDirective=COPY``, its metadata; it knows nothing of
instruction files or of an object bound to its location. So a copy through s3crypt keeps the envelope when
the caller replaces the metadata, copies the instruction file to a new key, and wraps the data key again
for the new location of a bound object. :func:`plan` decides; ``copy_object`` (here) and the managed copy
(:mod:`s3crypt.transfer`) carry the plan out.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from s3crypt.core.limits import check_metadata_size
from s3crypt.errors import ConfigurationError, NotEncryptedError
from s3crypt.format import instruction as instruction_format
from s3crypt.format import metadata
from s3crypt.format.context import LOCATION_KEY
from s3crypt.operations import instruction
from s3crypt.operations.get import unwrap
from s3crypt.operations.instruction import take_suffix
from s3crypt.operations.params import encryption_context_for
from s3crypt.operations.put import check_metadata
from s3crypt.operations.state import CopyState, is_presign, keep, state_of
from s3crypt.operations.unhooked import unhooked

if TYPE_CHECKING:
    from botocore.hooks import BaseEventHooks

    from s3crypt.config import EncryptionConfig
    from s3crypt.keyrings.base import Keyring

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


def rewrapped_entries(
    config: EncryptionConfig,
    keyring: Keyring,
    stored: dict[str, str],
    size: int,
    old_context: dict[str, str],
    new_context: dict[str, str],
) -> dict[str, str]:
    """The envelope entries of an object with its data key wrapped again by ``keyring`` for ``new_context``."""
    envelope, data_key = unwrap(config, stored, size, old_context)
    new_data_key = keyring.wrap_data_key(data_key, envelope.suite, new_context)
    return metadata.encode(dataclasses.replace(envelope, data_key=new_data_key))


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


def plan(
    config: EncryptionConfig,
    client: Any,
    head: dict[str, Any],
    source: Location,
    destination: Location,
    user_context: Any,
    suffix: str,
) -> Plan | None:
    """What copying the object at ``source`` (whose HEAD is ``head``) to ``destination`` needs; None when the
    source is not encrypted."""
    try:
        stored = instruction.completed(client, *source, suffix, head["Metadata"])
    except NotEncryptedError:
        return None
    contexts = rebinding(config, stored, source, destination, user_context)
    entries = None
    if contexts is not None:
        entries = rewrapped_entries(config, config.keyring, stored, head["ContentLength"], *contexts)
    return plan_for(head, source, destination, suffix, entries)


def rebinding(
    config: EncryptionConfig, stored: dict[str, str], source: Location, destination: Location, user_context: Any
) -> tuple[dict[str, str], dict[str, str]] | None:
    """The old and new encryption contexts when the copy must wrap the data key again for its new location (an
    object bound to its location, copied elsewhere by a client that binds locations); else None."""
    bound = LOCATION_KEY in metadata.decode(stored).data_key.description
    if not (bound and config.bind_object_location and source != destination):
        return None
    old_context = encryption_context_for(config, user_context, *source)
    return old_context, encryption_context_for(config, user_context, *destination)


def plan_for(
    head: dict[str, Any], source: Location, destination: Location, suffix: str, rewrapped: dict[str, str] | None
) -> Plan:
    """The plan of a copy of an encrypted object, given its envelope ``rewrapped`` for the destination if it was."""
    object_metadata = head["Metadata"]
    in_file = instruction_format.needed(object_metadata)
    envelope_entries = {key: value for key, value in object_metadata.items() if key.lower() in metadata.ALL_KEYS}
    result = Plan(envelope_entries)
    if rewrapped is not None:
        result.rebound = True
        if in_file:
            result.envelope, result.instruction = instruction_format.split(rewrapped)
        else:
            result.envelope = rewrapped
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


def finish(client: Any, the_plan: Plan, destination: Location) -> None:
    """After the copy: give the destination its instruction file, if it needs one."""
    bucket, key = destination
    instruction_key = key + instruction_format.DEFAULT_SUFFIX
    if the_plan.instruction is not None:
        instruction.write(client, bucket, instruction_key, the_plan.instruction)
    elif the_plan.instruction_source is not None:
        source_bucket, source_key = the_plan.instruction_source
        unhooked(client).copy_object(
            Bucket=bucket, Key=instruction_key, CopySource={"Bucket": source_bucket, "Key": source_key}
        )


def take_copy_parameters(config: EncryptionConfig, params: dict[str, Any]) -> tuple[Any, str]:
    """Take s3crypt's parameters of a copy (its ``EncryptionContext`` and the source's instruction-file suffix)
    out of ``params``, and check the caller's metadata as a put would."""
    user_context = params.pop("EncryptionContext", None)
    if user_context is not None and not config.bind_object_location:
        raise ConfigurationError("a copy takes an EncryptionContext only when bind_object_location=True")
    check_metadata(params)
    return user_context, take_suffix(params)


def check_copy(
    config: EncryptionConfig, client: Any, params: dict[str, Any], context: dict[str, Any], **_: Any
) -> None:
    """``provide-client-params`` of CopyObject: read the source's envelope and adjust the copy to keep it."""
    if is_presign(context):
        return
    user_context, suffix = take_copy_parameters(config, params)
    source = head_request(params)
    try:
        head = unhooked(client).head_object(**source)
    except ClientError:
        return  # the copy cannot read the source either: S3's own answer to it reaches the caller
    destination = (params["Bucket"], params["Key"])
    the_plan = plan(config, client, head, (source["Bucket"], source["Key"]), destination, user_context, suffix)
    if the_plan is not None:
        keep_envelope(params, head, the_plan, destination, context)


def keep_envelope(
    params: dict[str, Any], head: dict[str, Any], the_plan: Plan, destination: Location, context: dict[str, Any]
) -> None:
    """Adjust a CopyObject's parameters so the copy keeps (or carries the rewrapped) envelope; note the plan."""
    if the_plan.rebound or params.get("MetadataDirective") == "REPLACE":
        params["Metadata"] = destination_metadata(the_plan, head, params)
        if params.get("MetadataDirective") != "REPLACE":
            params.update({name: head[name] for name in KEPT_ATTRIBUTES if name in head and name not in params})
        params["MetadataDirective"] = "REPLACE"
    keep(context, CopyState(the_plan, destination))


def head_request(params: Mapping[str, Any]) -> dict[str, Any]:
    """The HeadObject parameters that read a CopyObject's source."""
    bucket, key, version = copy_source(params["CopySource"])
    return {"Bucket": bucket, "Key": key, **({"VersionId": version} if version else {}), **source_sse(params)}


def finish_copy(client: Any, http_response: Any, context: dict[str, Any], **_: Any) -> None:
    state = state_of(context, CopyState)
    if http_response.status_code < 300 and state is not None:
        finish(client, state.plan, state.destination)


def copy_in_parts(
    client: Any,
    create_args: dict[str, Any],
    part_args: dict[str, Any],
    size: int,
    part_size: int,
    *,
    concurrency: int = 1,
    on_part: Callable[[int], Any] | None = None,
) -> dict[str, Any]:
    """Copy ``size`` bytes in parts into a new multipart upload of the unhooked client (the bytes are copied as
    they are); abort it if anything fails."""
    client = unhooked(client)
    location = {"Bucket": create_args["Bucket"], "Key": create_args["Key"]}
    completion_args = {name: value for name, value in part_args.items() if name.startswith("SSECustomer")}
    upload_id = client.create_multipart_upload(**create_args)["UploadId"]

    def copy_part(number: int, start: int) -> dict[str, Any]:
        end = min(start + part_size, size) - 1
        response = client.upload_part_copy(
            **location, **part_args, UploadId=upload_id, PartNumber=number, CopySourceRange=f"bytes={start}-{end}"
        )
        if on_part is not None:
            on_part(end + 1 - start)
        return {"ETag": response["CopyPartResult"]["ETag"], "PartNumber": number}

    try:
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            starts = range(0, size, part_size)
            parts = list(pool.map(copy_part, range(1, len(starts) + 1), starts))
        completed: dict[str, Any] = client.complete_multipart_upload(
            **location, **completion_args, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
        return completed
    except BaseException:
        client.abort_multipart_upload(**location, UploadId=upload_id)
        raise


def register(events: BaseEventHooks, config: EncryptionConfig, client: Any) -> None:
    events.register("provide-client-params.s3.CopyObject", functools.partial(check_copy, config, client))
    events.register("after-call.s3.CopyObject", functools.partial(finish_copy, client))
