"""``s3crypt mv``: ``cp``, then the source is removed once its copy is complete."""

from __future__ import annotations

from typing import Any

import click

from s3crypt.cli.aws import Aws
from s3crypt.cli.copying import Copy, key_options, plan, run_copies
from s3crypt.cli.errors import EXIT_OK, CliUsageError
from s3crypt.cli.progress import output_options


def remove_source(client: Any) -> Any:
    """What removes a copy's source once it is copied: the local file of an upload, the object of a download
    (with its instruction file, which ``client``'s deletes remove too)."""

    def remove(copy: Copy) -> None:
        if copy.upload:
            copy.local.unlink()
        else:
            client.delete_object(Bucket=copy.remote.bucket, Key=copy.remote.key)

    return remove


@click.command()
@click.argument("source")
@click.argument("destination")
@click.option("--recursive", is_flag=True, help="Move a directory tree to a prefix, or a prefix to a directory.")
@key_options
@output_options
@click.pass_obj
def mv(
    aws: Aws,
    source: str,
    destination: str,
    recursive: bool,
    encryption_context: dict[str, str],
    kms_key_id: str | None,
    kms_discovery: bool,
    format_name: str,
) -> int:
    """Move local files into S3 encrypted, or objects out of it decrypted.

    As cp, and each source (file, or object with its instruction file) is removed once its copy is complete:
    a failed copy keeps its source.
    """
    client, copies = plan(aws, source, destination, recursive, (kms_key_id, kms_discovery, format_name))
    if copies is None:
        raise CliUsageError("mv moves files and objects; use cp for stdin or stdout ('-')")
    extra_args = {"EncryptionContext": encryption_context} if encryption_context else {}
    run_copies(client, copies, extra_args, verb="move", then=remove_source(client))
    return EXIT_OK
