"""Key rotation, the decisions: the envelope with its data key wrapped again, and the copy of the object onto
itself that stores it. The keyring calls (unwrap with the client's keyring, wrap with the new one) and the
requests are the shell's (:mod:`s3crypt.rewrap`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from s3crypt.core.copy import KEPT_ATTRIBUTES, as_copy_source
from s3crypt.format import metadata

if TYPE_CHECKING:
    from s3crypt.format.metadata import EncryptedDataKey, Envelope


def rewrapped(envelope: Envelope, new_data_key: EncryptedDataKey) -> dict[str, str]:
    """The envelope entries of an object whose data key is now wrapped as ``new_data_key``; the content's
    suite, IV or message id and key commitment stay as they are."""
    return metadata.encode(dataclasses.replace(envelope, data_key=new_data_key))


def in_place_copy(
    bucket: str, key: str, head: Mapping[str, Any], entries: Mapping[str, str], sse: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The destination and source arguments of the copy of an object (whose HEAD is ``head``) onto itself with
    the new envelope ``entries``: its user metadata, content headers, storage class and server-side encryption
    kept, the source pinned to the version and ETag that was read."""
    user_metadata = {k: v for k, v in head["Metadata"].items() if k.lower() not in metadata.ALL_KEYS}
    target = {
        "Bucket": bucket,
        "Key": key,
        "Metadata": {**user_metadata, **entries},
        **{name: head[name] for name in KEPT_ATTRIBUTES if name in head},
        **sse,
    }
    source = {"Bucket": bucket, "Key": key, **({"VersionId": head["VersionId"]} if "VersionId" in head else {})}
    return target, {"CopySource": source, "CopySourceIfMatch": head["ETag"], **as_copy_source(sse)}
