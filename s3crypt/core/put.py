"""Sealing an object: what to ask the keyring for, then the envelope and the cipher of its content.

A put (or a multipart upload's creation) is sealed in two steps around one keyring call::

    request = key_request(config, caller_metadata, encryption_context, length, instruction_file=...)
    data_key = config.keyring.generate_data_key(*request.arguments)     # the shell's I/O
    sealed = seal(request, caller_metadata, data_key)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from s3crypt.core.limits import check_metadata_size, envelope_floor
from s3crypt.crypto.content import commitment_for, content_cipher, new_iv
from s3crypt.crypto.streams import GcmMessage
from s3crypt.errors import ConfigurationError
from s3crypt.format import metadata
from s3crypt.format.instruction import split

if TYPE_CHECKING:
    from s3crypt.config import EncryptionConfig
    from s3crypt.crypto.suites import AlgorithmSuite
    from s3crypt.keyrings.base import DataKey

HEADER_PREFIX = "x-amz-meta-"


@dataclass(frozen=True)
class KeyRequest:
    """What to ask the keyring for: a new data key of ``suite`` for ``encryption_context``."""

    suite: AlgorithmSuite
    encryption_context: dict[str, str]
    plaintext_length: int | None
    """The object's plaintext length, None when not known yet (a multipart upload)."""
    instruction_file: bool
    """Whether the envelope's key entries go into an instruction file rather than the object's metadata."""

    @property
    def arguments(self) -> tuple[AlgorithmSuite, dict[str, str], int | None]:
        """The arguments of ``Keyring.generate_data_key``."""
        return self.suite, self.encryption_context, self.plaintext_length


@dataclass(frozen=True)
class Sealed:
    """A sealed object: the metadata entries to send with it, its instruction file if any, and its cipher."""

    metadata: dict[str, str]
    """Envelope entries for the object's user-defined metadata (keys without ``x-amz-meta-``)."""
    instruction: dict[str, str] | None
    """Entries of the instruction file to write once the object exists; None when it has none."""
    message: GcmMessage = field(repr=False)

    @property
    def headers(self) -> dict[str, str]:
        """:attr:`metadata` as request headers."""
        return {HEADER_PREFIX + key: value for key, value in self.metadata.items()}


def key_request(
    config: EncryptionConfig,
    caller_metadata: Mapping[str, Any],
    encryption_context: dict[str, str],
    length: int | None,
    *,
    instruction_file: bool,
) -> KeyRequest:
    """What to ask the keyring for, once the caller's metadata is known to leave room for the envelope."""
    suite = config.algorithm_suite
    floor = envelope_floor(suite, encryption_context, length, instruction_file=instruction_file)
    check_metadata_size(caller_metadata, floor, at_least=True)
    return KeyRequest(suite, encryption_context, length, instruction_file)


def seal(request: KeyRequest, caller_metadata: Mapping[str, Any], data_key: DataKey) -> Sealed:
    """The envelope of a new object under ``data_key`` (fresh from the keyring) and its content's cipher."""
    suite = request.suite
    iv = new_iv(suite)
    envelope = metadata.Envelope(
        suite=suite,
        data_key=data_key.encrypted,
        iv=iv,
        commitment=commitment_for(data_key.plaintext, iv) if suite.is_committing else None,
        plaintext_length=request.plaintext_length,
    )
    entries = metadata.encode(envelope)
    instruction = None
    if request.instruction_file:
        entries, instruction = split(entries)
    check_metadata_size(caller_metadata, entries)
    message = GcmMessage(content_cipher(suite, data_key.plaintext, iv), request.plaintext_length)
    return Sealed(entries, instruction, message)


_CHECKSUM_SETTINGS = frozenset({"ChecksumAlgorithm", "ChecksumType"})


def is_precomputed_checksum(name: str) -> bool:
    """Whether a parameter carries a checksum value (``ChecksumCRC32``, ``ChecksumSHA512``, ...) of the plaintext."""
    return name.startswith("Checksum") and name not in _CHECKSUM_SETTINGS


def check_metadata(params: dict[str, Any]) -> None:
    user_metadata = params.get("Metadata") or {}
    clashes = sorted(key for key in user_metadata if str(key).lower() in metadata.ALL_KEYS)
    if clashes:
        raise ConfigurationError(f"Metadata keys {clashes} are reserved for the encryption envelope; rename them")


def check_checksums(params: dict[str, Any]) -> None:
    precomputed = sorted(filter(is_precomputed_checksum, params))
    if precomputed:
        raise ConfigurationError(
            f"{precomputed} are checksums of the plaintext and cannot match the ciphertext S3 receives; "
            "pass ChecksumAlgorithm instead and botocore computes it over the ciphertext"
        )


def checked_instruction_file(wanted: Any) -> bool:
    """``InstructionFile`` (the call's, else the client's ``instruction_file``): whether the object's envelope
    goes to an instruction file."""
    if not isinstance(wanted, bool):
        raise ConfigurationError("InstructionFile must be True or False")
    return wanted
