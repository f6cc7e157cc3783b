"""The AWS side of the command line: clients built from the global options, and the S3 calls every command uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3.session
from botocore.exceptions import ClientError

from s3crypt._client import Session
from s3crypt.cli.errors import CliError, CliUsageError, status_of
from s3crypt.cli.urls import S3Url
from s3crypt.crypto.suites import AlgorithmSuite, CommitmentPolicy
from s3crypt.format import instruction as instruction_format
from s3crypt.keyrings.base import Keyring
from s3crypt.keyrings.kms import KmsKeyring
from s3crypt.keyrings.kms_base import BaseKmsKeyring
from s3crypt.keyrings.kms_discovery import KmsDiscoveryKeyring

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

UPLOAD_FORMATS: dict[str, dict[str, Any]] = {
    "v3": {},
    "v2": {
        "algorithm_suite": AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF,
        "commitment_policy": CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
    },
}
READ_OPTIONS: dict[str, Any] = {"commitment_policy": CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT}
"""Downloads and rewraps open both V3 and V2 objects."""


@dataclass
class Aws:
    """The global options, and the AWS clients built from them on first use."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    debug: bool = False

    @cached_property
    def session(self) -> boto3.session.Session:
        return boto3.session.Session(profile_name=self.profile, region_name=self.region)

    @cached_property
    def kms(self) -> KMSClient:
        """A KMS client for the keyrings; it shares ``--endpoint-url`` with S3 (one moto_server serves both)."""
        return self.session.client("kms", endpoint_url=self.endpoint_url)

    def plain_s3(self) -> Any:
        """A boto3 S3 client that neither encrypts nor decrypts."""
        return self.session.client("s3", endpoint_url=self.endpoint_url)

    def encrypting_s3(self, keyring: Keyring, options: Mapping[str, Any]) -> Any:
        """An s3crypt S3 client with ``keyring`` and the encryption ``options`` (fields of EncryptionConfig)."""
        return Session(self.session).client("s3", keyring=keyring, endpoint_url=self.endpoint_url, **options)

    def reading_s3(self) -> Any:
        """An s3crypt client that can read any object's envelope (it asks KMS only when told to decrypt)."""
        return self.encrypting_s3(self.discovery_keyring(), READ_OPTIONS)

    def kms_keyring(self, key_id: str) -> KmsKeyring:
        return KmsKeyring(key_id, kms_client=self.kms)

    def discovery_keyring(self) -> KmsDiscoveryKeyring:
        return KmsKeyring.discovery(kms_client=self.kms)

    def decrypting_keyring(self, kms_key_id: str | None, discovery: bool) -> BaseKmsKeyring:
        """The keyring of ``--kms-key-id`` or of ``--kms-discovery``: exactly one is needed to decrypt."""
        if discovery and kms_key_id:
            raise CliUsageError("give either --kms-key-id or --kms-discovery, not both")
        if discovery:
            return self.discovery_keyring()
        if not kms_key_id:
            raise CliUsageError(
                "decrypting needs --kms-key-id KEY (or --kms-discovery to use whichever key wrapped it)"
            )
        return self.kms_keyring(kms_key_id)


def head(client: Any, url: S3Url) -> dict[str, Any]:
    """``HeadObject``, with a 404 explained as a missing bucket or a missing object."""
    try:
        response: dict[str, Any] = client.head_object(Bucket=url.bucket, Key=url.key)
    except ClientError as error:
        if status_of(error) != 404:
            raise
        raise CliError(_missing(client, url)) from None
    return response


def _missing(client: Any, url: S3Url) -> str:
    try:
        client.head_bucket(Bucket=url.bucket)
    except ClientError as error:
        if status_of(error) == 404:
            return f"no such bucket: {url.bucket}"
    return f"no such object: {url}"


@dataclass(frozen=True)
class Entry:
    """An object of a listing: its key, stored size and last modification."""

    key: str
    size: int
    last_modified: datetime


@dataclass(frozen=True)
class Listing:
    """The objects under a prefix, without the instruction files of listed objects."""

    entries: list[Entry]
    folders: list[str]
    """With a delimiter, the common prefixes at that level."""
    with_instruction: frozenset[str]
    """The keys whose instruction file is listed too."""


def list_entries(client: Any, bucket: str, prefix: str, delimiter: str = "") -> Listing:
    """The objects under ``prefix`` and, with a ``delimiter``, the folders at that level."""
    entries: dict[str, Entry] = {}
    folders: list[str] = []
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter=delimiter)
    for page in pages:
        for item in page.get("Contents", []):
            entries[item["Key"]] = Entry(item["Key"], item["Size"], item["LastModified"])
        folders.extend(common["Prefix"] for common in page.get("CommonPrefixes", []))
    suffix = instruction_format.DEFAULT_SUFFIX
    with_instruction = frozenset(
        key[: -len(suffix)] for key in entries if key.endswith(suffix) and key[: -len(suffix)] in entries
    )
    instruction_files = {key + suffix for key in with_instruction}
    kept = [entry for key, entry in sorted(entries.items()) if key not in instruction_files]
    return Listing(kept, folders, with_instruction)
