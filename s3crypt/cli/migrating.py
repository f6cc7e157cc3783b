"""``s3crypt migrate``: bring every object under a prefix to the current format (V3), in place.

V1 and V2 objects are decrypted and encrypted again as V3; plaintext objects are encrypted. Each write is
conditional on the ETag read (``If-Match``), so an object changed during the run is skipped, never overwritten.
User metadata, content headers, tags and server-side encryption carry over. A checkpoint file lists the keys
done, so that a run killed halfway resumes where it stopped.
"""

from __future__ import annotations

import tempfile
import threading
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import click
from botocore.exceptions import ClientError

from s3crypt.cli.aws import READ_OPTIONS, UPLOAD_FORMATS, Aws, list_entries
from s3crypt.cli.batch import Skipped, Unchanged, run_batch
from s3crypt.cli.errors import status_of
from s3crypt.cli.inspection import Inspection, encryption_of
from s3crypt.cli.options import context_option
from s3crypt.cli.progress import output_options
from s3crypt.cli.rewrapping import concurrency_option, old_versions_option, stored_context_option
from s3crypt.cli.urls import S3Url
from s3crypt.cli.versions import report_older_versions
from s3crypt.core.copy import KEPT_ATTRIBUTES  # the same list copies and rewrap_object keep
from s3crypt.format import instruction as instruction_format
from s3crypt.format import metadata

SPOOL_MEMORY = 8 * 1024 * 1024
"""Bytes of one object's plaintext kept in memory while it is migrated; the rest goes to a temporary file."""
CHUNK = 1024 * 1024
KEPT_HEADERS = KEPT_ATTRIBUTES
"""What describes an object besides its body and metadata, read from HeadObject and written again."""
CURRENT = "V3"
LEGACY_READ_OPTIONS = {
    **READ_OPTIONS,
    "enable_legacy_unauthenticated_modes": True,
    "enable_legacy_wrapping_algorithms": True,
}
"""Migrating reads what the AWS clients wrote, V1 (AES-CBC, ``kms`` wrapping) included, to rewrite it as V3."""


class Checkpoint:
    """The keys done, one a line in a file that a later run reads back (nothing is kept without a file)."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self.done = set(path.read_text().splitlines()) if path is not None and path.exists() else set()

    def record(self, key: str) -> None:
        if self._path is None:
            return
        with self._lock, self._path.open("a") as file:
            file.write(key + "\n")
            file.flush()


class Migrator:
    """Migrates one object at a time; safe to call from several threads."""

    def __init__(
        self,
        clients: tuple[Any, Any, Any],
        context: Mapping[str, str] | None,
        checkpoint: Checkpoint,
        *,
        plaintext: bool,
        dryrun: bool,
    ) -> None:
        self._plain, self._reader, self._writer = clients
        self._context = context
        self._checkpoint = checkpoint
        self._plaintext = plaintext
        self._dryrun = dryrun

    def __call__(self, url: S3Url) -> str:
        head = self._plain.head_object(Bucket=url.bucket, Key=url.key)
        encryption = encryption_of(self._reader, url, head)
        found = encryption.format_version if encryption else "plaintext"
        if found == CURRENT:
            self._checkpoint.record(url.key)
            raise Unchanged(f"already {CURRENT}")
        if encryption is None and not self._plaintext:
            raise Skipped("plaintext; --skip-plaintext leaves it")
        if self._dryrun:
            return f"{found} to {CURRENT}, not done: --dryrun"
        self._rewrite(url, head, encryption)
        self._checkpoint.record(url.key)
        return f"{found} to {CURRENT}"

    def _rewrite(self, url: S3Url, head: Mapping[str, Any], encryption: Inspection | None) -> None:
        context = self._context_for(encryption)
        etag = head["ETag"]
        with tempfile.SpooledTemporaryFile(SPOOL_MEMORY) as spool:
            self._read(url, etag, encryption, context, spool)
            spool.seek(0)
            try:
                self._writer.put_object(
                    Bucket=url.bucket, Key=url.key, Body=spool, IfMatch=etag, **self._kept(url, head, context)
                )
            except ClientError as error:
                if status_of(error) == 412:
                    raise Skipped("changed during the run; run migrate again") from None
                raise
        if encryption is not None and encryption.instruction_file is not None:
            self._plain.delete_object(Bucket=url.bucket, Key=encryption.instruction_file.key)

    def _context_for(self, encryption: Inspection | None) -> dict[str, str]:
        if self._context is not None:
            return dict(self._context)
        return dict(encryption.encryption_context or {}) if encryption is not None else {}

    def _read(
        self, url: S3Url, etag: str, encryption: Inspection | None, context: dict[str, str], into: IO[bytes]
    ) -> None:
        """Copy the object's plaintext, as it was when ``etag`` was read, into ``into``."""
        if encryption is None:
            response = self._plain.get_object(Bucket=url.bucket, Key=url.key, IfMatch=etag)
        else:
            old_context = context if encryption.wrapping_algorithm == metadata.KMS_CONTEXT else {}
            response = self._reader.get_object(
                Bucket=url.bucket, Key=url.key, IfMatch=etag, EncryptionContext=old_context
            )
        with response["Body"] as body:
            for chunk in iter(lambda: body.read(CHUNK), b""):
                into.write(chunk)

    def _kept(self, url: S3Url, head: Mapping[str, Any], context: dict[str, str]) -> dict[str, Any]:
        """The parameters of the new PutObject that keep what describes the object."""
        user_metadata = {
            key: value
            for key, value in (head.get("Metadata") or {}).items()
            if key.lower() not in metadata.ALL_KEYS and key.lower() != instruction_format.MARKER
        }
        tags = self._plain.get_object_tagging(Bucket=url.bucket, Key=url.key).get("TagSet", [])
        kept: dict[str, Any] = {name: head[name] for name in KEPT_HEADERS if name in head}
        if kept.get("ServerSideEncryption") == "AES256":
            kept.pop("BucketKeyEnabled", None)
        if tags:
            kept["Tagging"] = urllib.parse.urlencode([(tag["Key"], tag["Value"]) for tag in tags])
        return {"Metadata": user_metadata, "EncryptionContext": context, **kept}


@click.command()
@click.argument("url")
@click.option("--kms-key-id", required=True, help="The KMS key to wrap the new data keys under.")
@click.option("--old-kms-key-id", help="The KMS key that wraps the old objects' data keys (by default, whichever).")
@context_option
@stored_context_option
@click.option("--skip-plaintext", is_flag=True, help="Leave plaintext objects as they are; migrate only V1 and V2.")
@click.option("--dryrun", is_flag=True, help="Show what would be migrated, and change nothing.")
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A file of the keys done: a run given the same file skips them, so a killed run resumes.",
)
@concurrency_option
@old_versions_option
@output_options
@click.pass_obj
def migrate(
    aws: Aws,
    url: str,
    kms_key_id: str,
    old_kms_key_id: str | None,
    encryption_context: dict[str, str],
    use_stored_context: bool,
    skip_plaintext: bool,
    dryrun: bool,
    checkpoint: Path | None,
    concurrency: int,
    delete_old_versions: bool,
) -> int:
    """Bring every object under s3://BUCKET/PREFIX to the V3 format, in place.

    V1 and V2 objects are decrypted and encrypted again as V3 under --kms-key-id; plaintext objects are
    encrypted (unless --skip-plaintext). Each object is written only if it has not changed since it was read
    (If-Match on its ETag): one that changed is skipped. User metadata, content headers, tags and server-side
    encryption carry over. Reads check --encryption-context, or with --use-stored-context take each object's
    own, which the new object keeps. Exit status 2 when some objects were skipped.
    """
    location = S3Url.parse(url)
    plain = aws.plain_s3()
    old_keyring = aws.kms_keyring(old_kms_key_id) if old_kms_key_id else aws.discovery_keyring()
    reader = aws.encrypting_s3(old_keyring, LEGACY_READ_OPTIONS)
    writer = aws.encrypting_s3(aws.kms_keyring(kms_key_id), UPLOAD_FORMATS["v3"])
    done = Checkpoint(checkpoint)
    entries = list_entries(plain, location.bucket, location.folder).entries
    urls = [location.child(entry.key) for entry in entries if entry.key not in done.done]
    if done.done:
        click.echo(f"resume: {len(entries) - len(urls)} objects done in an earlier run", err=True)
    context = None if use_stored_context else encryption_context
    work = Migrator((plain, reader, writer), context, done, plaintext=not skip_plaintext, dryrun=dryrun)
    tally = run_batch(urls, work, "(dryrun) migrate" if dryrun else "migrate", "migrated", concurrency)
    if not dryrun:
        report_older_versions(plain, location, location.folder, tally.current_keys, delete_old_versions, "unmigrated")
    return tally.exit_code(len(urls))
