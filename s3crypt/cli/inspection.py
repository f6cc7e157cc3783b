"""``s3crypt inspect``: how one object is encrypted, read from its metadata (and instruction file) alone."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import click

from s3crypt._crypto.suites import GCM_TAG_LENGTH, AlgorithmSuite
from s3crypt._errors import NotEncryptedError
from s3crypt._format import instruction as instruction_format
from s3crypt._format import metadata
from s3crypt._format.context import RESERVED_KEY
from s3crypt._format.metadata import EncryptedDataKey
from s3crypt._operations import instruction
from s3crypt.cli.aws import Aws, head
from s3crypt.cli.errors import EXIT_OK, CliError
from s3crypt.cli.urls import S3Url

LEGACY_KMS_KEY_ID = "kms_cmk_id"
"""The material description entry of a V1 ``kms`` object that names its KMS key."""


@dataclass(frozen=True)
class Inspection:
    """How one object is encrypted, read from its metadata (and instruction file) alone."""

    url: S3Url
    format_version: str
    suite: AlgorithmSuite
    wrapping_algorithm: str
    encryption_context: Mapping[str, str] | None
    """The KMS encryption context given when it was written (``kms+context`` only; without the reserved entry)."""
    material_description: Mapping[str, str] | None
    plaintext_size: int | None
    stored_size: int
    instruction_file: S3Url | None
    key_id: str | None = None
    """The KMS key that wrapped the data key, where the metadata names it (V1 ``kms``) or KMS said so."""
    data_key: EncryptedDataKey | None = field(default=None, repr=False, compare=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "url": str(self.url),
            "format": self.format_version,
            "suite": self.suite.name,
            "wrapping_algorithm": self.wrapping_algorithm,
            "encryption_context": _dict_or_none(self.encryption_context),
            "material_description": _dict_or_none(self.material_description),
            "plaintext_size": self.plaintext_size,
            "stored_size": self.stored_size,
            "instruction_file": str(self.instruction_file) if self.instruction_file else None,
            "key_id": self.key_id,
        }

    def rows(self) -> list[tuple[str, str]]:
        described = (
            ("encryption context", self.encryption_context)
            if self.encryption_context is not None
            else ("material description", self.material_description or {})
        )
        return [
            ("format", self.format_version),
            ("suite", f"{self.suite.name} (0x{self.suite.value:04X})"),
            ("wrapping", self.wrapping_algorithm),
            (described[0], json.dumps(dict(described[1]), sort_keys=True)),
            ("plaintext size", "unknown" if self.plaintext_size is None else f"{self.plaintext_size} bytes"),
            ("stored size", f"{self.stored_size} bytes"),
            ("instruction file", str(self.instruction_file) if self.instruction_file else "none"),
            *([("key id", self.key_id)] if self.key_id else []),
        ]

    def text(self) -> list[str]:
        """The lines ``inspect`` prints: the URL, then one aligned row a property."""
        rows = self.rows()
        width = max(len(label) for label, _ in rows) + 2
        return [str(self.url), *(f"  {label:<{width}}{value}" for label, value in rows)]


def _dict_or_none(mapping: Mapping[str, str] | None) -> dict[str, str] | None:
    return None if mapping is None else dict(mapping)


def inspect_object(client: Any, url: S3Url) -> Inspection:
    """Inspect the object at ``url`` through ``client`` (an s3crypt client): nothing is decrypted."""
    url.object_key()
    response = head(client, url)
    encryption = encryption_of(client, url, response)
    if encryption is None:
        raise CliError(f"{url} is not client-side encrypted: it has no encryption metadata and no instruction file")
    return encryption


def encryption_of(client: Any, url: S3Url, response: Mapping[str, Any]) -> Inspection | None:
    """How the object at ``url`` (whose HeadObject response is ``response``) is encrypted; None if it is not."""
    try:
        return describe_envelope(client, url, response)
    except NotEncryptedError:
        return None


def describe_envelope(client: Any, url: S3Url, response: Mapping[str, Any]) -> Inspection:
    """The :class:`Inspection` of the object at ``url`` whose ``HeadObject`` response is ``response``;
    :class:`NotEncryptedError` if it has no envelope."""
    object_metadata = {key.lower(): value for key, value in (response.get("Metadata") or {}).items()}
    suffix = instruction_format.DEFAULT_SUFFIX
    stored = instruction.completed(client, url.bucket, url.key, suffix, object_metadata)
    envelope = metadata.decode(stored)
    size: int = response["ContentLength"]
    description = envelope.data_key.description
    is_context = envelope.data_key.wrapping_algorithm == metadata.KMS_CONTEXT
    return Inspection(
        url=url,
        format_version=format_version(envelope.suite, stored),
        suite=envelope.suite,
        wrapping_algorithm=envelope.data_key.wrapping_algorithm,
        encryption_context={k: v for k, v in description.items() if k != RESERVED_KEY} if is_context else None,
        material_description=None if is_context else description,
        plaintext_size=envelope.plaintext_length if envelope.suite.is_legacy else plaintext_size(size),
        stored_size=size,
        instruction_file=url.child(url.key + suffix) if instruction_format.needed(object_metadata) else None,
        key_id=description.get(LEGACY_KMS_KEY_ID)
        if envelope.data_key.wrapping_algorithm == metadata.LEGACY_KMS
        else None,
        data_key=envelope.data_key,
    )


def checked_key_id(kms: Any, inspection: Inspection) -> str:
    """The KMS key that wrapped the object's data key, as one KMS ``Decrypt`` reports it.

    The data key KMS returns is dropped at once: only the key id is kept.
    """
    data_key = inspection.data_key
    if data_key is None or data_key.wrapping_algorithm not in {metadata.KMS_CONTEXT, metadata.LEGACY_KMS}:
        wrapping = inspection.wrapping_algorithm
        raise CliError(
            f"--check asks KMS which key wrapped the data key, but {inspection.url} is wrapped with {wrapping}"
        )
    response = kms.decrypt(CiphertextBlob=data_key.ciphertext, EncryptionContext=dict(data_key.description))
    key_id: str = response["KeyId"]
    return key_id


def format_version(suite: AlgorithmSuite, stored: Mapping[str, str]) -> str:
    """``V3``, ``V2`` or ``V1``: the format of an object of ``suite`` whose crypto metadata is ``stored``."""
    if suite.is_committing:
        return "V3"
    return "V1" if metadata.KEY_V1 in stored else "V2"


@click.command()
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--check", is_flag=True, help="Ask KMS (one Decrypt) which key wrapped the data key, and show its id.")
@click.pass_obj
def inspect(aws: Aws, url: str, as_json: bool, check: bool) -> int:
    """Show how the object at s3://BUCKET/KEY is encrypted (no key is needed).

    With --check, one KMS Decrypt of the wrapped data key proves that the caller may unwrap it and reports the
    KMS key that wrapped it; the data key itself is discarded.
    """
    inspection = inspect_object(aws.reading_s3(), S3Url.parse(url))
    if check:
        inspection = dataclasses.replace(inspection, key_id=checked_key_id(aws.kms, inspection))
    if as_json:
        click.echo(json.dumps(inspection.as_json(), indent=2))
        return EXIT_OK
    for line in inspection.text():
        click.echo(line)
    return EXIT_OK


def plaintext_size(stored_size: int) -> int:
    """The plaintext size of a GCM-encrypted (V2 or V3) object of ``stored_size`` bytes."""
    return max(0, stored_size - GCM_TAG_LENGTH)
