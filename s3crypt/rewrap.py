"""Key rotation in place: re-wrap an object's data key under another keyring without moving its content.

The data key is unwrapped with the client's keyring and wrapped again with the new one; the content, the IV
or message id and the key commitment stay as they are. An object whose envelope lives in its metadata gets
new metadata through a server-side copy onto itself (``MetadataDirective=REPLACE``, multipart
``UploadPartCopy`` above the single-copy limit), so the content bytes never leave S3; an object with an
instruction file gets a new instruction file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from s3crypt.format import instruction as instruction_format
from s3crypt.format import metadata
from s3crypt.format.context import validate_user_context
from s3crypt.operations import instruction
from s3crypt.operations.get import unwrap
from s3crypt.operations.params import RAW

if TYPE_CHECKING:
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
        *,
        copy_part_size: int = COPY_PART_SIZE,
        max_single_copy: int = MAX_SINGLE_COPY,
    ) -> dict[str, Any]:
        old_context = validate_user_context(encryption_context)
        new_context = validate_user_context(new_encryption_context)
        head = self._client.head_object(Bucket=bucket, Key=key)
        stored = instruction.completed(self._client, bucket, key, instruction_format.DEFAULT_SUFFIX, head["Metadata"])
        envelope, data_key = unwrap(self._config, stored, head["ContentLength"], old_context)
        new_data_key = new_keyring.bind(self._client_factory).wrap_data_key(data_key, envelope.suite, new_context)
        entries = metadata.encode(dataclasses.replace(envelope, data_key=new_data_key))
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
        }
        source = {"Bucket": bucket, "Key": key, **({"VersionId": head["VersionId"]} if "VersionId" in head else {})}
        if head["ContentLength"] <= max_single_copy:
            response: dict[str, Any] = self._client.copy_object(
                **target, CopySource=source, CopySourceIfMatch=head["ETag"], MetadataDirective="REPLACE"
            )
            return response
        return self._copy_in_parts(target, source, head["ETag"], head["ContentLength"], copy_part_size)

    def _copy_in_parts(
        self, target: dict[str, Any], source: dict[str, str], etag: str, size: int, part_size: int
    ) -> dict[str, Any]:
        location = {"Bucket": target["Bucket"], "Key": target["Key"]}
        tags = self._client.get_object_tagging(**location)["TagSet"]
        tagging = "&".join(f"{tag['Key']}={tag['Value']}" for tag in tags)
        create_args = {**target, **({"Tagging": tagging} if tagging else {}), RAW: True}
        upload_id = self._client.create_multipart_upload(**create_args)["UploadId"]
        try:
            parts = []
            for number, start in enumerate(range(0, size, part_size), start=1):
                end = min(start + part_size, size) - 1
                response = self._client.upload_part_copy(
                    **location,
                    UploadId=upload_id,
                    PartNumber=number,
                    CopySource=source,
                    CopySourceIfMatch=etag,
                    CopySourceRange=f"bytes={start}-{end}",
                )
                parts.append({"ETag": response["CopyPartResult"]["ETag"], "PartNumber": number})
            completed: dict[str, Any] = self._client.complete_multipart_upload(
                **location, UploadId=upload_id, MultipartUpload={"Parts": parts}, **{RAW: True}
            )
            return completed
        except BaseException:
            self._client.abort_multipart_upload(**location, UploadId=upload_id, **{RAW: True})
            raise
