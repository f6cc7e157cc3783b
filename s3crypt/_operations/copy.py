"""Copies of encrypted objects: the envelope goes wherever the ciphertext goes.

S3 copies an object's bytes and, with ``MetadataDirective=COPY``, its metadata; it knows nothing of
instruction files or of an object bound to its location. So a copy through s3crypt keeps the envelope when
the caller replaces the metadata, copies the instruction file to a new key, and wraps the data key again
for the new location of a bound object. :func:`plan` decides; ``copy_object`` (here) and the managed copy
(:mod:`s3crypt._transfer`) carry the plan out.
"""

from __future__ import annotations

import concurrent.futures
import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from s3crypt._core.copy import KEPT_ATTRIBUTES, Location, Plan, copy_source, destination_metadata, rebinds, source_sse
from s3crypt._core.copy import plan as copy_plan
from s3crypt._core.put import check_metadata
from s3crypt._core.rewrap import rewrapped
from s3crypt._errors import ConfigurationError, NotEncryptedError
from s3crypt._operations import instruction
from s3crypt._operations.get import unwrap
from s3crypt._operations.instruction import take_suffix
from s3crypt._operations.params import encryption_context_for
from s3crypt._operations.state import CopyState, is_presign, keep, state_of
from s3crypt._operations.unhooked import unhooked

if TYPE_CHECKING:
    from botocore.hooks import BaseEventHooks

    from s3crypt._config import EncryptionConfig
    from s3crypt._keyrings.base import Keyring


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
    return rewrapped(envelope, keyring.wrap_data_key(data_key, envelope.suite, new_context))


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
    rebound = None
    if rebinds(config, stored, source, destination):
        old_context = encryption_context_for(config, user_context, *source)
        new_context = encryption_context_for(config, user_context, *destination)
        rebound = rewrapped_entries(config, config.keyring, stored, head["ContentLength"], old_context, new_context)
    return copy_plan(head["Metadata"], rebound, source, destination, suffix)


def finish(client: Any, the_plan: Plan, destination: Location) -> None:
    """After the copy: give the destination its instruction file, if it needs one."""
    if (to_write := the_plan.instruction_to_write(destination)) is not None:
        instruction.write(client, *to_write)
    if (to_copy := the_plan.instruction_to_copy(destination)) is not None:
        unhooked(client).copy_object(**to_copy)


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
