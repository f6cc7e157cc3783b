"""Key rotation in place: re-wrap an object's data key under another keyring without moving its content.

The data key is unwrapped with the client's keyring and wrapped again with the new one; the content, the IV
or message id and the key commitment stay as they are. An object whose envelope lives in its metadata gets
new metadata through a server-side copy onto itself (``MetadataDirective=REPLACE``, multipart
``UploadPartCopy`` above the single-copy limit), so the content bytes never leave S3; an object with an
instruction file gets a new instruction file.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from s3crypt.core.rewrap import in_place_copy
from s3crypt.format import instruction as instruction_format
from s3crypt.operations import instruction
from s3crypt.operations.copy import copy_in_parts, rewrapped_entries
from s3crypt.operations.params import encryption_context_for
from s3crypt.operations.unhooked import unhooked

if TYPE_CHECKING:
    from s3crypt.config import EncryptionConfig
    from s3crypt.keyrings.base import ClientFactory, Keyring

MAX_SINGLE_COPY = 5 * 1024**3
COPY_PART_SIZE = 1024**3


class Rewrapper:
    """Key rotation for one encrypting client."""

    def __init__(self, client: Any, config: EncryptionConfig, client_factory: ClientFactory) -> None:
        self._client = client
        self._config = config
        self._client_factory = client_factory

    def rewrap_object(
        self,
        bucket: str,
        key: str,
        new_keyring: Keyring,
        encryption_context: Mapping[str, str] | None = None,
        new_encryption_context: Mapping[str, str] | None = None,
        instruction_file_suffix: str | None = None,
        new_instruction_file_suffix: str | None = None,
        sse_customer: Mapping[str, Any] | None = None,
        *,
        copy_part_size: int = COPY_PART_SIZE,
        max_single_copy: int = MAX_SINGLE_COPY,
    ) -> dict[str, Any]:
        if new_encryption_context is None and new_keyring.binds_encryption_context:
            new_encryption_context = encryption_context  # the object keeps its context
        old_context = encryption_context_for(self._config, encryption_context, bucket, key)
        new_context = encryption_context_for(self._config, new_encryption_context, bucket, key)
        sse = dict(sse_customer or {})
        head = unhooked(self._client).head_object(Bucket=bucket, Key=key, **sse)
        suffix = instruction.checked_suffix(instruction_file_suffix or instruction_format.DEFAULT_SUFFIX)
        stored = instruction.completed(self._client, bucket, key, suffix, head["Metadata"])
        entries = self._rewrapped(stored, head["ContentLength"], new_keyring, old_context, new_context)
        if instruction_format.needed(head["Metadata"]):
            new_suffix = instruction.checked_suffix(new_instruction_file_suffix or suffix, "NewInstructionFileSuffix")
            instruction_key = key + new_suffix
            instruction.write(self._client, bucket, instruction_key, instruction_format.split(entries)[1])
            return {"InstructionFileKey": instruction_key}
        target, copy_source = in_place_copy(bucket, key, head, entries, sse)
        if head["ContentLength"] <= max_single_copy:
            response: dict[str, Any] = unhooked(self._client).copy_object(
                **target, **copy_source, MetadataDirective="REPLACE"
            )
            return response
        return self._copy_in_parts(target, copy_source, head["ContentLength"], copy_part_size, sse)

    def _rewrapped(
        self,
        stored: dict[str, str],
        size: int,
        new_keyring: Keyring,
        old_context: dict[str, str],
        new_context: dict[str, str],
    ) -> dict[str, str]:
        """The envelope entries of the object with its data key wrapped again under ``new_keyring``."""
        keyring = new_keyring.bind(self._client_factory)
        return rewrapped_entries(self._config, keyring, stored, size, old_context, new_context)

    def _copy_in_parts(
        self, target: dict[str, Any], copy_source: dict[str, Any], size: int, part_size: int, sse: dict[str, Any]
    ) -> dict[str, Any]:
        tags = unhooked(self._client).get_object_tagging(Bucket=target["Bucket"], Key=target["Key"])["TagSet"]
        tagging = urllib.parse.urlencode([(tag["Key"], tag["Value"]) for tag in tags])
        create_args = {**target, **({"Tagging": tagging} if tagging else {})}
        return copy_in_parts(self._client, create_args, {**copy_source, **sse}, size, part_size)
