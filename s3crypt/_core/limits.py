"""S3's limit on user-defined metadata, which the envelope shares with the caller's ``Metadata``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from s3crypt._crypto.content import COMMITMENT_LENGTH
from s3crypt._crypto.suites import AlgorithmSuite
from s3crypt._errors import ConfigurationError
from s3crypt._format import metadata
from s3crypt._format.instruction import split

USER_METADATA_LIMIT = 2048
"""S3's limit: the UTF-8 bytes of every key (without ``x-amz-meta-``) and value of the user-defined metadata."""
_HEADER_PREFIX = "x-amz-meta-"


def metadata_size(entries: Mapping[str, Any]) -> int:
    return sum(len(str(key).encode("utf-8")) + len(str(value).encode("utf-8")) for key, value in entries.items())


def metadata_in(headers: Mapping[str, Any]) -> dict[str, Any]:
    """The user-defined metadata among a serialized request's headers, keyed as in ``Metadata``."""
    prefix = len(_HEADER_PREFIX)
    return {name[prefix:]: value for name, value in headers.items() if name.lower().startswith(_HEADER_PREFIX)}


def check_metadata_size(caller: Mapping[str, Any], envelope: Mapping[str, str], *, at_least: bool = False) -> None:
    """Refuse metadata S3 would refuse; ``at_least`` when ``envelope`` is a lower bound of what will be stored."""
    envelope_size = metadata_size(envelope)
    total = metadata_size(caller) + envelope_size
    if total > USER_METADATA_LIMIT:
        bound = "at least " if at_least else ""
        raise ConfigurationError(
            f"the object's user-defined metadata would be {bound}{total} bytes with the encryption envelope "
            f"({bound}{envelope_size} bytes of it), over S3's limit of {USER_METADATA_LIMIT} bytes; pass "
            "InstructionFile=True to keep the envelope in an instruction file, or shorten Metadata or the "
            "EncryptionContext"
        )


def envelope_floor(
    suite: AlgorithmSuite, encryption_context: Mapping[str, str], length: int | None, *, instruction_file: bool
) -> dict[str, str]:
    """Entries no longer than the envelope a keyring will produce for this object (its wrapped key empty, the
    shortest wrapping algorithm, the encryption context as its whole description), known before KMS is called."""
    envelope = metadata.Envelope(
        suite=suite,
        data_key=metadata.EncryptedDataKey(metadata.AES_GCM, b"", encryption_context),
        iv=bytes(suite.iv_length),
        commitment=bytes(COMMITMENT_LENGTH) if suite.is_committing else None,
        plaintext_length=length,
    )
    entries = metadata.encode(envelope)
    return split(entries)[0] if instruction_file else entries
