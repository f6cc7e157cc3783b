"""``s3crypt rm``: delete objects together with their instruction files."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from s3crypt.cli.aws import Aws, list_entries
from s3crypt.cli.errors import EXIT_OK, CliError
from s3crypt.cli.progress import Progress, output_options
from s3crypt.cli.urls import S3Url

DELETE_BATCH = 1000
"""Keys a DeleteObjects request takes at most."""


def delete_objects(client: Any, bucket: str, keys: Sequence[str]) -> dict[str, str]:
    """Delete ``keys`` through an s3crypt client, which deletes their instruction files too; the keys that
    failed, with S3's reason."""
    failed: dict[str, str] = {}
    for start in range(0, len(keys), DELETE_BATCH):
        batch = [{"Key": key} for key in keys[start : start + DELETE_BATCH]]
        response = client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        failed.update(
            (error["Key"], f"{error.get('Message')} ({error.get('Code')})") for error in response.get("Errors", [])
        )
    return failed


def keys_to_remove(client: Any, location: S3Url, recursive: bool) -> list[str]:
    """The object ``location``, or with ``recursive`` every object under it (taken as a folder)."""
    if not recursive:
        return [location.object_key()]
    return [entry.key for entry in list_entries(client, location.bucket, location.folder).entries]


@click.command()
@click.argument("url")
@click.option("--recursive", is_flag=True, help="Delete every object under the prefix (taken as a folder).")
@click.option("--dryrun", is_flag=True, help="Show what would be deleted, and delete nothing.")
@output_options
@click.pass_obj
def rm(aws: Aws, url: str, recursive: bool, dryrun: bool) -> int:
    """Delete objects and their instruction files (<key>.instruction).

    URL is s3://BUCKET/KEY, or with --recursive a prefix. As with S3, deleting a missing key is not an error.
    """
    location = S3Url.parse(url)
    client = aws.reading_s3()
    keys = keys_to_remove(client, location, recursive)
    failed = {} if dryrun else delete_objects(client, location.bucket, keys)
    with Progress(0, "delete") as progress:
        for key in keys:
            action = "(dryrun) delete" if dryrun else "delete"
            progress.report(action, str(location.child(key)), error=failed.get(key))
    if failed:
        raise CliError(f"{len(failed)} of {len(keys)} deletes failed")
    return EXIT_OK
