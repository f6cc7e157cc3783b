"""``s3crypt rewrap``: re-wrap the data keys of objects under another KMS key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import click

from s3crypt.cli.aws import READ_OPTIONS, Aws, head, list_objects
from s3crypt.cli.errors import EXIT_OK, EXIT_SKIPPED, TRANSFER_ERRORS, CliError, describe
from s3crypt.cli.options import context_option
from s3crypt.cli.progress import PROGRESS_MIN_OBJECTS, Progress, output_options
from s3crypt.cli.urls import S3Url
from s3crypt.errors import NotEncryptedError
from s3crypt.keyrings.kms import KmsKeyring


@dataclass
class Tally:
    """What ``rewrap`` did."""

    rotated: int = 0
    skipped: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"rotated {self.rotated}, skipped {self.skipped} (not encrypted), failed {self.failed}"


def rewrap_objects(
    client: Any, bucket: str, keys: Sequence[str], new_keyring: KmsKeyring, context: Mapping[str, str]
) -> Tally:
    """Re-wrap each object's data key under ``new_keyring`` (keeping ``context``), under one progress bar."""
    tally = Tally()
    with Progress(len(keys), "rewrap", minimum=PROGRESS_MIN_OBJECTS) as progress:
        for key in keys:
            url = S3Url(bucket, key)
            try:
                client.rewrap_object(
                    Bucket=bucket,
                    Key=key,
                    new_keyring=new_keyring,
                    EncryptionContext=dict(context),
                    NewEncryptionContext=dict(context),
                )
            except NotEncryptedError:
                tally.skipped += 1
                progress.report("skip", f"{url} (not encrypted)")
            except TRANSFER_ERRORS as error:
                if len(keys) == 1:
                    raise CliError(f"{url}: {describe(error)}") from error
                tally.failed += 1
                progress.report("rewrap", str(url), error=describe(error))
            else:
                tally.rotated += 1
                progress.report("rewrap", str(url))
            progress.update(1)
        progress.summary(str(tally), rotated=tally.rotated, skipped=tally.skipped, failed=tally.failed)
    return tally


@click.command()
@click.argument("url")
@click.option("--kms-key-id", required=True, help="The KMS key to wrap the data keys under from now on.")
@click.option("--recursive", is_flag=True, help="Rewrap every object under the prefix.")
@click.option(
    "--old-kms-key-id", help="The KMS key the data keys are wrapped under now (by default, whichever key it is)."
)
@context_option
@output_options
@click.pass_obj
def rewrap(
    aws: Aws,
    url: str,
    kms_key_id: str,
    recursive: bool,
    old_kms_key_id: str | None,
    encryption_context: dict[str, str],
) -> int:
    """Rotate keys in place: re-wrap data keys under another KMS key without moving the content.

    URL is s3://BUCKET/KEY, or with --recursive a prefix (taken as a folder). Each object keeps the encryption
    context given with --encryption-context, which must be the one it was written with.
    """
    location = S3Url.parse(url)
    old_keyring = aws.kms_keyring(old_kms_key_id) if old_kms_key_id else aws.discovery_keyring()
    client = aws.encrypting_s3(old_keyring, READ_OPTIONS)
    if recursive:
        keys = [key for key, _ in list_objects(client, location.bucket, location.folder)]
    else:
        key = location.object_key()
        head(client, location)  # a missing bucket or object is reported as such
        keys = [key]
    tally = rewrap_objects(client, location.bucket, keys, aws.kms_keyring(kms_key_id), encryption_context)
    if tally.failed:
        raise CliError(f"{tally.failed} of {len(keys)} objects were not rewrapped")
    return EXIT_SKIPPED if tally.skipped else EXIT_OK
