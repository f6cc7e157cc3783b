"""Opening an object: the checks on its envelope, what to ask the keyring to unwrap, and how to read it.

A get is opened in steps around one keyring call::

    plan = plan_get(config, params)                                    # before the request: its Range
    located = locate(plan, content_length, content_range)              # after it: which object and bytes
    request = unwrap_request(config, stored_metadata, located.object_size, encryption_context)
    data_key = config.keyring.decrypt_data_key(*request.arguments)    # the shell's I/O
    cipher = content_cipher_for(request.envelope, data_key)
    reading = read_plan(located, cipher, request.envelope)             # length, Content-Range, reader
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from s3crypt._core.ranges import PlaintextRange, Window, whole_content_range, window
from s3crypt._crypto.content import ContentCipher, content_cipher, verify_commitment
from s3crypt._crypto.suites import GCM_TAG_LENGTH
from s3crypt._errors import ConfigurationError, DecryptionError, FormatError
from s3crypt._format import metadata

if TYPE_CHECKING:
    from s3crypt._config import EncryptionConfig
    from s3crypt._crypto.suites import AlgorithmSuite
    from s3crypt._format.metadata import EncryptedDataKey, Envelope


class UnsatisfiableRange(Exception):
    """The requested range lies outside the plaintext: the shell answers as S3 does (416 InvalidRange)."""

    def __init__(self, actual_size: int | None) -> None:
        super().__init__("The requested range is not satisfiable")
        self.actual_size = actual_size


@dataclass(frozen=True)
class GetPlan:
    """How a get reads: the whole object, or a plaintext range (which S3 is asked for as ``ciphertext_range``)."""

    range: PlaintextRange | None = None
    whole_range: bool = False
    """The caller asked for ``bytes=0-``: the whole object, read and authenticated as without a range."""
    ciphertext_checksum: bool = False
    """Whether S3 is asked for the ciphertext's checksum (``ChecksumMode``), which botocore then checks."""

    @property
    def ciphertext_range(self) -> str | None:
        return None if self.range is None else self.range.ciphertext_header()


def plan_get(config: EncryptionConfig, params: dict[str, Any]) -> GetPlan:
    """Check a get's ``PartNumber`` and ``Range`` against the configuration; how it will be read.

    S3 is asked for the ciphertext's checksum only when the caller names ``ChecksumMode``, or may read legacy CBC
    objects: AES-GCM authenticates every byte of the ciphertext already, and S3 has no checksum of a range.
    """
    checksum = "ChecksumMode" in params or config.enable_legacy_unauthenticated_modes
    return replace(_plan_range(config, params), ciphertext_checksum=checksum)


def _plan_range(config: EncryptionConfig, params: dict[str, Any]) -> GetPlan:
    if "PartNumber" in params:
        raise ConfigurationError(
            "GetObject with PartNumber returns part of the ciphertext, which cannot be authenticated; "
            "get the whole object"
        )
    if "Range" not in params:
        return GetPlan()
    requested = PlaintextRange.parse(params["Range"])
    if requested.covers_whole_object:
        return GetPlan(whole_range=True)  # the request keeps bytes=0-: all of the ciphertext, tag included
    if not config.enable_ranged_get:
        raise ConfigurationError(
            "a ranged get cannot be authenticated (it never sees the GCM tag); create the client with "
            "enable_ranged_get=True to allow unauthenticated ranged reads"
        )
    return GetPlan(range=requested)


@dataclass(frozen=True)
class Located:
    """A get's response placed in the object: the object's size and, for a ranged read, the window."""

    plan: GetPlan
    content_length: int
    content_range: str | None
    window: Window | None

    @property
    def object_size(self) -> int:
        """The size of the whole stored object (ciphertext), which its envelope must agree with."""
        if self.window is None:
            return self.content_length
        return self.window.plaintext_size + GCM_TAG_LENGTH


def locate(plan: GetPlan, content_length: Any, content_range: str | None) -> Located:
    """Where a response's bytes lie in the object (S3's Content-Length and Content-Range of it)."""
    if not isinstance(content_length, int):
        raise DecryptionError("S3 sent no Content-Length for the object; it cannot be decrypted")
    if plan.range is None:
        if content_range is not None and not plan.whole_range:
            raise DecryptionError("S3 returned a byte range that was not asked for; the object cannot be authenticated")
        return Located(plan, content_length, content_range, None)
    found = window(plan.range, content_range, content_length)
    if found is None:
        raise UnsatisfiableRange(None)
    return Located(plan, content_length, content_range, found)


@dataclass(frozen=True)
class UnwrapRequest:
    """What to ask the keyring to unwrap: the envelope's data key, for ``encryption_context``."""

    envelope: Envelope
    encryption_context: dict[str, str]

    @property
    def arguments(self) -> tuple[EncryptedDataKey, AlgorithmSuite, dict[str, str]]:
        """The arguments of ``Keyring.decrypt_data_key``."""
        return self.envelope.data_key, self.envelope.suite, self.encryption_context


def unwrap_request(
    config: EncryptionConfig, stored_metadata: dict[str, str], object_size: int, encryption_context: dict[str, str]
) -> UnwrapRequest:
    """Read the envelope (metadata completed from any instruction file) and check it against the configuration
    and the object's size; what the keyring must unwrap."""
    envelope = metadata.decode(stored_metadata)
    check_envelope(config, envelope, object_size)
    return UnwrapRequest(envelope, encryption_context)


def check_data_key(envelope: Envelope, data_key: bytes) -> None:
    """Verify the unwrapped ``data_key`` against the envelope's key commitment, if it has one."""
    if envelope.commitment is not None:
        verify_commitment(data_key, envelope.iv, envelope.commitment)


def content_cipher_for(envelope: Envelope, data_key: bytes) -> ContentCipher:
    """The content's cipher under the unwrapped ``data_key``, its key commitment verified."""
    check_data_key(envelope, data_key)
    return content_cipher(envelope.suite, data_key, envelope.iv)


@dataclass(frozen=True)
class ReadPlan:
    """How to read a response: its plaintext length and Content-Range, and for a ranged read, the window."""

    length: int | None
    """The plaintext's ContentLength; None for a legacy CBC object that does not record it."""
    content_range: str | None
    """The response's plaintext Content-Range; None when it has none."""
    window: Window | None


def read_plan(located: Located, cipher: ContentCipher, envelope: Envelope) -> ReadPlan:
    """How the response ``located`` reads, once its cipher is known."""
    if located.window is not None:
        if cipher.suite.is_legacy:
            raise ConfigurationError("a ranged get of a legacy CBC object is not supported; get the whole object")
        return ReadPlan(located.window.length, located.window.content_range, located.window)
    length = plaintext_length(envelope, located.content_length)
    if located.content_range is None:
        return ReadPlan(length, None, None)
    plaintext_range = whole_content_range(located.content_range, located.content_length, length)  # bytes=0-
    if length == 0:
        raise UnsatisfiableRange(0)  # as S3 answers bytes=0- of an empty object
    return ReadPlan(length, plaintext_range, None)


def plaintext_length(envelope: Envelope, object_size: int) -> int | None:
    """The plaintext length: the object's less the tag, or for CBC (padded) what the metadata says, if it does."""
    if not envelope.suite.is_legacy:
        return object_size - GCM_TAG_LENGTH
    return envelope.plaintext_length


def check_envelope(config: EncryptionConfig, envelope: Envelope, object_size: int) -> None:
    """Refuse an envelope the configuration does not allow, or that disagrees with the object's size."""
    suite = envelope.suite
    if suite.is_legacy and not config.enable_legacy_unauthenticated_modes:
        raise FormatError(
            f"the object is encrypted with the legacy unauthenticated suite {suite.name} (AES-CBC); create the "
            "client with enable_legacy_unauthenticated_modes=True to read it"
        )
    wrapping = envelope.data_key.wrapping_algorithm
    if wrapping in metadata.LEGACY_WRAPPINGS and not config.enable_legacy_wrapping_algorithms:
        raise FormatError(
            f"the object's data key is wrapped with the legacy algorithm {wrapping!r}; create the client with "
            "enable_legacy_wrapping_algorithms=True to read it"
        )
    if not config.commitment_policy.may_decrypt(suite):
        raise FormatError(
            f"the object uses {suite.name}, which has no key commitment, and commitment_policy is "
            f"{config.commitment_policy.name}; create the client with "
            "commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT to read it"
        )
    declared = envelope.plaintext_length
    padded = suite.is_legacy and declared is not None and 0 < object_size - declared <= GCM_TAG_LENGTH
    if declared is not None and declared != object_size - GCM_TAG_LENGTH and not padded:
        raise FormatError(
            f"the object's metadata gives a plaintext of {declared} bytes but it stores "
            f"{object_size} bytes of ciphertext: the object or its metadata was altered"
        )
