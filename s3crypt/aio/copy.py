"""CopyObject on the asyncio client: the copy rules of :mod:`s3crypt._operations.copy` (the envelope goes wherever
the ciphertext goes), with the source's HEAD, its instruction file and any rewrap awaited."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from s3crypt._core.copy import Location, Plan, rebinds
from s3crypt._core.copy import plan as copy_plan
from s3crypt._core.get import check_data_key, unwrap_request
from s3crypt._core.rewrap import rewrapped
from s3crypt._errors import NotEncryptedError
from s3crypt._operations.copy import head_request, keep_envelope, take_copy_parameters
from s3crypt._operations.params import encryption_context_for
from s3crypt._operations.state import CopyState, is_presign, state_of
from s3crypt.aio import instruction

if TYPE_CHECKING:
    from s3crypt._config import EncryptionConfig
    from s3crypt._keyrings.base import Keyring
    from s3crypt.aio.keyring import AsyncKeyring
    from s3crypt.aio.resources import Resources


async def check_copy(
    config: EncryptionConfig,
    keyring: AsyncKeyring,
    resources: Resources,
    params: dict[str, Any],
    context: dict[str, Any],
    **_: Any,
) -> None:
    """``provide-client-params`` of CopyObject: read the source's envelope and adjust the copy to keep it."""
    if is_presign(context):
        return
    user_context, suffix = take_copy_parameters(config, params)
    source = head_request(params)
    try:
        head = await (await resources.unhooked()).head_object(**source)
    except ClientError:
        return  # the copy cannot read the source either: S3's own answer to it reaches the caller
    destination = (params["Bucket"], params["Key"])
    origin = (source["Bucket"], source["Key"])
    the_plan = await plan(config, keyring, resources, head, origin, destination, user_context, suffix)
    if the_plan is not None:
        keep_envelope(params, head, the_plan, destination, context)


async def plan(
    config: EncryptionConfig,
    keyring: AsyncKeyring,
    resources: Resources,
    head: dict[str, Any],
    source: Location,
    destination: Location,
    user_context: Any,
    suffix: str,
) -> Plan | None:
    """:func:`s3crypt._operations.copy.plan`, awaiting the instruction file and the keyring."""
    try:
        stored = await instruction.completed(resources, *source, suffix, head["Metadata"])
    except NotEncryptedError:
        return None
    rebound = None
    if rebinds(config, stored, source, destination):
        old_context = encryption_context_for(config, user_context, *source)
        new_context = encryption_context_for(config, user_context, *destination)
        wrapping = keyring.metered.inner
        size = head["ContentLength"]
        rebound = await rewrapped_entries(config, keyring, wrapping, stored, size, old_context, new_context)
    return copy_plan(head["Metadata"], rebound, source, destination, suffix)


async def rewrapped_entries(
    config: EncryptionConfig,
    keyring: AsyncKeyring,
    new_keyring: Keyring,
    stored: dict[str, str],
    size: int,
    old_context: dict[str, str],
    new_context: dict[str, str],
) -> dict[str, str]:
    """The envelope entries of an object with its data key wrapped again by ``new_keyring`` for ``new_context``."""
    request = unwrap_request(config, stored, size, old_context)
    data_key = await keyring.decrypt_data_key(*request.arguments)
    check_data_key(request.envelope, data_key)
    new_data_key = await keyring.wrap_data_key(new_keyring, data_key, request.envelope.suite, new_context)
    return rewrapped(request.envelope, new_data_key)


async def finish_copy(resources: Resources, http_response: Any, context: dict[str, Any], **_: Any) -> None:
    """``after-call`` of CopyObject: give the destination its instruction file, if it needs one."""
    state = state_of(context, CopyState)
    if http_response.status_code >= 300 or state is None:
        return
    if (to_write := state.plan.instruction_to_write(state.destination)) is not None:
        await instruction.write(resources, *to_write)
    if (to_copy := state.plan.instruction_to_copy(state.destination)) is not None:
        await (await resources.unhooked()).copy_object(**to_copy)
