"""Key rotation in place: re-wrap an object's data key under another keyring without moving its content.

The data key is unwrapped with the client's keyring and wrapped again with the new one; the content, the IV
or message id and the key commitment stay as they are. An object whose envelope lives in its metadata gets
new metadata through a server-side copy onto itself (``MetadataDirective=REPLACE``, multipart
``UploadPartCopy`` above the single-copy limit), so the content bytes never leave S3; an object with an
instruction file gets a new instruction file.
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from s3crypt.errors import ConfigurationError
from s3crypt.format import instruction as instruction_format
from s3crypt.format import metadata
from s3crypt.format.context import LOCATION_KEY
from s3crypt.operations import instruction
from s3crypt.operations.get import unwrap
from s3crypt.operations.params import RAW, encryption_context_for, take_raw

if TYPE_CHECKING:
    from botocore.hooks import BaseEventHooks

    from s3crypt.config import EncryptionConfig
    from s3crypt.keyrings.base import ClientFactory, Keyring

MAX_SINGLE_COPY = 5 * 1024**3
COPY_PART_SIZE = 1024**3
# What a copy with MetadataDirective=REPLACE would otherwise drop (tags and the content stay with COPY).
_KEPT_ATTRIBUTES = (
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


_COPY_SOURCE_SSE = ("CopySourceSSECustomerAlgorithm", "CopySourceSSECustomerKey", "CopySourceSSECustomerKeyMD5")


def _as_copy_source(sse: Mapping[str, Any]) -> dict[str, Any]:
    """SSE-C parameters of an object, named as they are for the source of a copy."""
    return {f"CopySource{name}": value for name, value in sse.items()}


def _copy_source(source: str | Mapping[str, str]) -> tuple[str, str, str | None]:
    """Bucket, key and version of a CopySource, given as boto3 accepts it (a dict, or "bucket/key?versionId=")."""
    if isinstance(source, Mapping):
        return source["Bucket"], source["Key"], source.get("VersionId")
    path, _, query = source.partition("?versionId=")
    bucket, _, key = urllib.parse.unquote(path).lstrip("/").partition("/")
    return bucket, key, query or None


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
        head = self._client.head_object(Bucket=bucket, Key=key, **sse)
        stored = instruction.completed(self._client, bucket, key, instruction_format.DEFAULT_SUFFIX, head["Metadata"])
        entries = self._rewrapped(stored, head["ContentLength"], new_keyring, old_context, new_context)
        if instruction_format.needed(head["Metadata"]):
            instruction_key = key + (instruction_file_suffix or instruction_format.DEFAULT_SUFFIX)
            instruction.write(self._client, bucket, instruction_key, instruction_format.split(entries)[1])
            return {"InstructionFileKey": instruction_key}
        user_metadata = {k: v for k, v in head["Metadata"].items() if k.lower() not in metadata.ALL_KEYS}
        target = {
            "Bucket": bucket,
            "Key": key,
            "Metadata": {**user_metadata, **entries},
            **{name: head[name] for name in _KEPT_ATTRIBUTES if name in head},
            **sse,
        }
        source = {"Bucket": bucket, "Key": key, **({"VersionId": head["VersionId"]} if "VersionId" in head else {})}
        copy_source = {"CopySource": source, "CopySourceIfMatch": head["ETag"], **_as_copy_source(sse)}
        if head["ContentLength"] <= max_single_copy:
            response: dict[str, Any] = self._client.copy_object(**target, **copy_source, MetadataDirective="REPLACE")
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
        envelope, data_key = unwrap(self._config, stored, size, old_context)
        new_data_key = new_keyring.bind(self._client_factory).wrap_data_key(data_key, envelope.suite, new_context)
        return metadata.encode(dataclasses.replace(envelope, data_key=new_data_key))

    def rebind_copy(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        """``provide-client-params`` of CopyObject: a copy of a location-bound object is bound to its new location.

        The copy becomes ``MetadataDirective=REPLACE`` with the data key wrapped for the destination (the
        caller's ``EncryptionContext`` plus the new location), keeping what describes the object.
        """
        user_context = params.pop("EncryptionContext", None)
        if take_raw(params, context) or not self._config.bind_object_location:
            if user_context is not None:
                raise ConfigurationError("copy_object takes an EncryptionContext only when bind_object_location=True")
            return
        bucket, key, version = _copy_source(params["CopySource"])
        sse = {name[len("CopySource") :]: params[name] for name in _COPY_SOURCE_SSE if name in params}
        head = self._client.head_object(Bucket=bucket, Key=key, **({"VersionId": version} if version else {}), **sse)
        if instruction_format.needed(head["Metadata"]):
            return  # an instruction-file object: its file is not copied, so neither is its binding
        envelope = metadata.decode(head["Metadata"])
        if LOCATION_KEY not in envelope.data_key.description:
            return
        old_context = encryption_context_for(self._config, user_context, bucket, key)
        new_context = encryption_context_for(self._config, user_context, params["Bucket"], params["Key"])
        entries = self._rewrapped(
            head["Metadata"], head["ContentLength"], self._config.keyring, old_context, new_context
        )
        if params.get("MetadataDirective") == "REPLACE":
            kept = params.get("Metadata") or {}
        else:
            kept = {k: v for k, v in head["Metadata"].items() if k.lower() not in metadata.ALL_KEYS}
            params.update({name: head[name] for name in _KEPT_ATTRIBUTES if name in head and name not in params})
        params["MetadataDirective"] = "REPLACE"
        params["Metadata"] = {**kept, **entries}

    def _copy_in_parts(
        self, target: dict[str, Any], copy_source: dict[str, Any], size: int, part_size: int, sse: dict[str, Any]
    ) -> dict[str, Any]:
        location = {"Bucket": target["Bucket"], "Key": target["Key"]}
        tags = self._client.get_object_tagging(**location)["TagSet"]
        tagging = urllib.parse.urlencode([(tag["Key"], tag["Value"]) for tag in tags])
        create_args = {**target, **({"Tagging": tagging} if tagging else {}), RAW: True}
        upload_id = self._client.create_multipart_upload(**create_args)["UploadId"]
        try:
            parts = []
            for number, start in enumerate(range(0, size, part_size), start=1):
                end = min(start + part_size, size) - 1
                response = self._client.upload_part_copy(
                    **location,
                    **copy_source,
                    **sse,
                    UploadId=upload_id,
                    PartNumber=number,
                    CopySourceRange=f"bytes={start}-{end}",
                )
                parts.append({"ETag": response["CopyPartResult"]["ETag"], "PartNumber": number})
            completed: dict[str, Any] = self._client.complete_multipart_upload(
                **location, **sse, UploadId=upload_id, MultipartUpload={"Parts": parts}, **{RAW: True}
            )
            return completed
        except BaseException:
            self._client.abort_multipart_upload(**location, UploadId=upload_id, **{RAW: True})
            raise


def register(events: BaseEventHooks, rewrapper: Rewrapper) -> None:
    events.register("provide-client-params.s3.CopyObject", rewrapper.rebind_copy)
