"""``s3crypt rewrap``: re-wrap the data keys of objects under another KMS key, several at a time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from s3crypt._errors import NotEncryptedError
from s3crypt._keyrings.kms import KmsKeyring
from s3crypt.cli.aws import READ_OPTIONS, Aws, head, list_entries
from s3crypt.cli.batch import DEFAULT_CONCURRENCY, Skipped, run_batch
from s3crypt.cli.inspection import describe_envelope
from s3crypt.cli.options import context_option
from s3crypt.cli.progress import output_options
from s3crypt.cli.urls import S3Url
from s3crypt.cli.versions import report_older_versions

concurrency_option = click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    help="Objects worked on at the same time.",
)
stored_context_option = click.option(
    "--use-stored-context",
    is_flag=True,
    help="Use each object's own stored encryption context instead of checking it against --encryption-context.",
)
old_versions_option = click.option(
    "--delete-old-versions",
    is_flag=True,
    help="On a versioned bucket, delete the older versions of the objects done (they keep the old key or format).",
)


def stored_context(client: Any, url: S3Url) -> dict[str, str]:
    """The encryption context the object at ``url`` says it was written with (empty for raw keyrings)."""
    inspection = describe_envelope(client, url, client.head_object(Bucket=url.bucket, Key=url.key))
    return dict(inspection.encryption_context or {})


def rewrapper(client: Any, new_keyring: KmsKeyring, context: Mapping[str, str] | None) -> Any:
    """What re-wraps one object's data key; with ``context`` None, under the object's own stored context."""

    def rewrap_one(url: S3Url) -> None:
        try:
            object_context = stored_context(client, url) if context is None else dict(context)
            client.rewrap_object(
                Bucket=url.bucket,
                Key=url.key,
                new_keyring=new_keyring,
                EncryptionContext=object_context,
                NewEncryptionContext=object_context,
            )
        except NotEncryptedError:
            raise Skipped("not encrypted") from None

    return rewrap_one


@click.command()
@click.argument("url")
@click.option("--kms-key-id", required=True, help="The KMS key to wrap the data keys under from now on.")
@click.option("--recursive", is_flag=True, help="Rewrap every object under the prefix.")
@click.option(
    "--old-kms-key-id", help="The KMS key the data keys are wrapped under now (by default, whichever key it is)."
)
@context_option
@stored_context_option
@concurrency_option
@old_versions_option
@output_options
@click.pass_obj
def rewrap(
    aws: Aws,
    url: str,
    kms_key_id: str,
    recursive: bool,
    old_kms_key_id: str | None,
    encryption_context: dict[str, str],
    use_stored_context: bool,
    concurrency: int,
    delete_old_versions: bool,
) -> int:
    """Rotate keys in place: re-wrap data keys under another KMS key without moving the content.

    URL is s3://BUCKET/KEY, or with --recursive a prefix (taken as a folder). Each object keeps the encryption
    context given with --encryption-context, which must be the one it was written with; --use-stored-context
    takes each object's own instead (for a bucket with a context per tenant). A copy onto itself is made only if
    the object has not changed since it was read (CopySourceIfMatch). Exit status 2 when some objects were
    skipped (not encrypted).
    """
    location = S3Url.parse(url)
    old_keyring = aws.kms_keyring(old_kms_key_id) if old_kms_key_id else aws.discovery_keyring()
    client = aws.encrypting_s3(old_keyring, READ_OPTIONS)
    if recursive:
        urls = [location.child(entry.key) for entry in list_entries(client, location.bucket, location.folder).entries]
    else:
        location.object_key()
        head(client, location)  # a missing bucket or object is reported as such
        urls = [location]
    context = None if use_stored_context else encryption_context
    work = rewrapper(client, aws.kms_keyring(kms_key_id), context)
    tally = run_batch(urls, work, "rewrap", "rotated", concurrency)
    prefix = location.folder if recursive else location.key
    report_older_versions(
        aws.plain_s3(), location, prefix, tally.current_keys, delete_old_versions, "under the old key"
    )
    return tally.exit_code(len(urls))
