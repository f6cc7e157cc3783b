"""Older versions on a versioned bucket: after ``rewrap`` or ``migrate`` they still hold the old key or format
(or plaintext), which only an explicit option removes."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import click
from botocore.exceptions import ClientError

from s3crypt.cli.errors import describe, status_of
from s3crypt.cli.progress import Progress
from s3crypt.cli.urls import S3Url


def older_versions(client: Any, bucket: str, prefix: str, keys: Collection[str]) -> list[tuple[str, str]]:
    """``(key, version id)`` of each noncurrent version of ``keys`` under ``prefix``."""
    wanted = set(keys)
    found = []
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for version in page.get("Versions", []):
            if not version["IsLatest"] and version["Key"] in wanted and version["VersionId"] != "null":
                found.append((version["Key"], version["VersionId"]))
    return found


def report_older_versions(
    plain_client: Any, location: S3Url, prefix: str, keys: Collection[str], delete: bool, what: str
) -> None:
    """Say which older versions stay as ``what``, or with ``delete`` delete them (S3's own versions API: the
    versions' instruction files, which other versions may share, stay)."""
    try:
        versions = older_versions(plain_client, location.bucket, prefix, keys)
    except ClientError as error:
        if status_of(error) != 403:
            raise
        click.echo(f"s3crypt: note: older versions not checked: {describe(error)}", err=True)
        return
    with Progress(0, "versions") as progress:
        for key, version in versions:
            url = f"{location.child(key)}?versionId={version}"
            if delete:
                plain_client.delete_object(Bucket=location.bucket, Key=key, VersionId=version)
                progress.report("delete", url)
            else:
                progress.report("older version", f"{url} stays {what} (--delete-old-versions removes it)")
