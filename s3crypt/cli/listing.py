"""``s3crypt ls``: objects with their plaintext sizes and how each is encrypted, read from metadata alone."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click

from s3crypt._format import metadata
from s3crypt.cli.aws import Aws, Entry, Listing, list_entries
from s3crypt.cli.errors import EXIT_OK, CliUsageError
from s3crypt.cli.inspection import describe_envelope
from s3crypt.cli.urls import S3Url, is_s3_url

HEAD_CONCURRENCY = 8
"""``HeadObject`` calls in flight while listing: one per object, to read its envelope."""
PLAIN = "plain"


@dataclass(frozen=True)
class Listed:
    """One object as ``ls`` shows it."""

    url: S3Url
    last_modified: datetime
    stored_size: int
    plaintext_size: int | None
    format_version: str
    """``V3``, ``V2``, ``V1`` or ``plain``."""
    wrapping_algorithm: str | None
    key_id: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "url": str(self.url),
            "key": self.url.key,
            "last_modified": self.last_modified.isoformat(),
            "size": self.plaintext_size,
            "stored_size": self.stored_size,
            "format": self.format_version,
            "wrapping_algorithm": self.wrapping_algorithm,
            "key_id": self.key_id,
        }


def describe_entries(client: Any, bucket: str, listing: Listing) -> list[Listed]:
    """Each object's plaintext size and format, from one ``HeadObject`` each (several at a time)."""

    def describe(entry: Entry) -> Listed:
        return describe_entry(client, S3Url(bucket, entry.key), entry, entry.key in listing.with_instruction)

    with ThreadPoolExecutor(HEAD_CONCURRENCY) as pool:
        return list(pool.map(describe, listing.entries))


def describe_entry(client: Any, url: S3Url, entry: Entry, has_instruction_file: bool) -> Listed:
    """How the object ``entry`` at ``url`` is stored, from its ``HeadObject`` (and instruction file)."""
    response = client.head_object(Bucket=url.bucket, Key=url.key)
    stored = {key.lower(): value for key, value in (response.get("Metadata") or {}).items()}
    if not metadata.has_crypto_keys(stored) and not has_instruction_file:
        return Listed(url, entry.last_modified, entry.size, entry.size, PLAIN, None, None)
    inspection = describe_envelope(client, url, response)
    return Listed(
        url,
        entry.last_modified,
        entry.size,
        inspection.plaintext_size,
        inspection.format_version,
        inspection.wrapping_algorithm,
        inspection.key_id,
    )


def human_size(size: int | None) -> str:
    """``size`` in bytes as ``aws s3 ls --human-readable`` writes it (``1.5 KiB``)."""
    if size is None:
        return "?"
    value = float(size)
    for unit in ("Bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} Bytes" if unit == "Bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _line(item: Listed, shown_key: str, long: bool, human: bool) -> str:
    size = (
        human_size(item.plaintext_size)
        if human
        else str(item.plaintext_size if item.plaintext_size is not None else "?")
    )
    when = item.last_modified.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    columns = [when, f"{size:>10}", f"{item.format_version:<5}"]
    if long:
        columns += [f"{item.wrapping_algorithm or '-':<13}", f"{item.key_id or '-':<20}"]
    return " ".join([*columns, shown_key])


@click.command("ls")
@click.argument("url", required=False)
@click.option("--recursive", is_flag=True, help="List every object under the prefix, not only its first level.")
@click.option(
    "--long", "-l", "long", is_flag=True, help="Show the wrapping algorithm and the key id where the metadata names it."
)
@click.option("--human-readable", is_flag=True, help="Sizes in KiB, MiB, GiB.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per line.")
@click.pass_obj
def ls(aws: Aws, url: str | None, recursive: bool, long: bool, human_readable: bool, as_json: bool) -> int:
    """List objects with their plaintext sizes and formats (V3, V2, V1 or plain), or the buckets.

    URL is s3://BUCKET[/PREFIX]; without it, the buckets are listed. Sizes are those of the plaintext; reading
    them needs no key (one HeadObject per object).
    """
    if url is None or url.rstrip("/") == "s3:":
        for bucket in aws.plain_s3().list_buckets().get("Buckets", []):
            created = bucket["CreationDate"].astimezone().strftime("%Y-%m-%d %H:%M:%S")
            click.echo(json.dumps({"bucket": bucket["Name"]}) if as_json else f"{created} {bucket['Name']}")
        return EXIT_OK
    if not is_s3_url(url):
        raise CliUsageError(f"{url!r} is not an s3:// URL")
    location = S3Url.parse(url)
    client = aws.reading_s3()
    listing = list_entries(client, location.bucket, location.key, "" if recursive else "/")
    base = "" if recursive else location.key[: location.key.rfind("/") + 1]
    for folder in listing.folders:
        click.echo(json.dumps({"prefix": folder}) if as_json else f"{'PRE':>30} {folder[len(base) :]}")
    for item in describe_entries(client, location.bucket, listing):
        click.echo(
            json.dumps(item.as_json()) if as_json else _line(item, item.url.key[len(base) :], long, human_readable)
        )
    return EXIT_OK
