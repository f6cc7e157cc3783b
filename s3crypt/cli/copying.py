"""``s3crypt cp``: which files to upload or objects to download, and running those transfers."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import click

from s3crypt.cli.aws import READ_OPTIONS, UPLOAD_FORMATS, Aws, head, list_entries
from s3crypt.cli.errors import EXIT_OK, TRANSFER_ERRORS, CliError, CliUsageError, describe
from s3crypt.cli.inspection import plaintext_size
from s3crypt.cli.options import context_option
from s3crypt.cli.progress import Progress, output_options
from s3crypt.cli.urls import S3Url, is_s3_url

STREAM = "-"
"""SOURCE or DESTINATION meaning stdin or stdout."""


@dataclass(frozen=True)
class Copy:
    """One file to upload or one object to download."""

    local: Path
    remote: S3Url
    size: int
    """Bytes the transfer reports through its callback (for a download, estimated from the stored size)."""
    upload: bool

    def __str__(self) -> str:
        return self.describe("upload" if self.upload else "download")

    def describe(self, verb: str) -> str:
        """``VERB: SOURCE to DESTINATION``, as ``aws s3`` reports each transfer."""
        source, destination = self.ends()
        return f"{verb}: {source} to {destination}"

    def ends(self) -> tuple[str, str]:
        """The source and the destination."""
        return (str(self.local), str(self.remote)) if self.upload else (str(self.remote), str(self.local))

    def run(self, client: Any, extra_args: Mapping[str, Any], callback: Callable[[int], None]) -> None:
        remote = self.remote
        if self.upload:
            client.upload_file(
                str(self.local), remote.bucket, remote.key, ExtraArgs=dict(extra_args), Callback=callback
            )
            return
        self.local.parent.mkdir(parents=True, exist_ok=True)
        client.download_file(remote.bucket, remote.key, str(self.local), ExtraArgs=dict(extra_args), Callback=callback)


def plan_uploads(source: Path, destination: S3Url, recursive: bool) -> list[Copy]:
    """The files to upload: ``source``, or with ``recursive`` every file under it, mirrored under the prefix."""
    if recursive:
        if not source.is_dir():
            raise CliUsageError(f"not a directory: {source} (--recursive copies a directory tree)")
        return [
            Copy(path, destination.child(destination.folder + relative), size, upload=True)
            for path, relative, size in files_under(source)
        ]
    if source.is_dir():
        raise CliUsageError(f"{source} is a directory; add --recursive to copy its tree")
    if not source.is_file():
        raise CliError(f"no such file: {source}")
    key = destination.key if destination.key and not destination.key.endswith("/") else destination.key + source.name
    return [Copy(source, destination.child(key), source.stat().st_size, upload=True)]


def files_under(root: Path) -> list[tuple[Path, str, int]]:
    """Every regular file under ``root`` (following no directory links), in a stable order: its path, its path
    relative to ``root`` with ``/`` separators, and its size."""
    files = []
    for directory, subdirectories, names in os.walk(root):
        subdirectories.sort()
        for name in sorted(names):
            path = Path(directory, name)
            if path.is_file():
                files.append((path, path.relative_to(root).as_posix(), path.stat().st_size))
    return files


def plan_downloads(client: Any, source: S3Url, destination: str, recursive: bool) -> list[Copy]:
    """The objects to download: ``source``, or with ``recursive`` every object under it, mirrored as a tree."""
    if recursive:
        prefix = source.folder
        entries = list_entries(client, source.bucket, prefix).entries
        root = Path(destination)
        return [
            Copy(local_path(root, entry.key[len(prefix) :]), source.child(entry.key), plaintext_size(entry.size), False)
            for entry in entries
        ]
    name = PurePosixPath(source.object_key()).name
    size = plaintext_size(head(client, source)["ContentLength"])
    into_directory = destination.endswith(("/", os.sep)) or Path(destination).is_dir()
    return [Copy(Path(destination, name) if into_directory else Path(destination), source, size, upload=False)]


def local_path(root: Path, relative: str) -> Path:
    """Where the key ``relative`` (to the prefix) goes under ``root``; a key that would escape it is refused."""
    parts = PurePosixPath(relative).parts
    path = root.joinpath(*parts)
    inside = os.path.commonpath([os.path.abspath(root), os.path.abspath(path)]) == os.path.abspath(root)
    if not parts or relative.startswith("/") or ".." in parts or not inside:
        raise CliError(f"refusing to download the key {relative!r}: its name would place it outside {root}")
    return path


def run_copies(
    client: Any,
    copies: Sequence[Copy],
    extra_args: Mapping[str, Any],
    verb: str | None = None,
    then: Callable[[Copy], None] | None = None,
) -> None:
    """Run the copies in order under one progress bar, each followed by ``then`` (``mv`` removes the source);
    with several, a failure does not stop the others. ``verb`` names them in the output (``upload`` or
    ``download`` by default)."""
    failed = 0
    verb = verb or ("upload" if copies and copies[0].upload else "download")
    label = f"{verb} {len(copies)} file{'s' if len(copies) != 1 else ''}"
    with Progress(sum(copy.size for copy in copies), label, items=len(copies)) as progress:
        for copy in copies:
            progress.start(copy.ends()[0], copy.size)
            try:
                copy.run(client, extra_args, progress.update)
                if then is not None:
                    then(copy)
            except TRANSFER_ERRORS as error:
                if len(copies) == 1:
                    raise CliError(f"{copy.remote}: {describe(error)}") from error
                failed += 1
                progress.report(verb, str(copy.remote), error=describe(error))
            else:
                progress.report(verb, *copy.ends())
    if failed:
        raise CliError(f"{failed} of {len(copies)} transfers failed")


def key_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of the commands that encrypt or decrypt: the context, the KMS key and the format."""
    options = [
        context_option,
        click.option("--kms-key-id", help="The KMS key that wraps the data keys (needed for uploads)."),
        click.option(
            "--kms-discovery", is_flag=True, help="Download with whichever KMS key wrapped each object's data key."
        ),
        click.option(
            "--format",
            "format_name",
            type=click.Choice(sorted(UPLOAD_FORMATS)),
            default="v3",
            show_default=True,
            help="The format of uploaded objects (v2 for readers without key commitment); downloads read both.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.command()
@click.argument("source")
@click.argument("destination")
@click.option("--recursive", is_flag=True, help="Copy a directory tree to a prefix, or a prefix to a directory.")
@key_options
@output_options
@click.pass_obj
def cp(
    aws: Aws,
    source: str,
    destination: str,
    recursive: bool,
    encryption_context: dict[str, str],
    kms_key_id: str | None,
    kms_discovery: bool,
    format_name: str,
) -> int:
    """Encrypt local files into S3, or decrypt objects out of it.

    One of SOURCE and DESTINATION is s3://BUCKET/KEY, the other a local path, or - for stdin or stdout. With
    --recursive a directory tree is mirrored under s3://BUCKET/PREFIX (taken as the folder PREFIX/), and back.
    """
    extra_args = {"EncryptionContext": encryption_context} if encryption_context else {}
    client, copies = plan(aws, source, destination, recursive, (kms_key_id, kms_discovery, format_name))
    if copies is None:
        copy_stream(client, source, destination, extra_args)
    else:
        run_copies(client, copies, extra_args)
    return EXIT_OK


def plan(
    aws: Aws, source: str, destination: str, recursive: bool, keys: tuple[str | None, bool, str]
) -> tuple[Any, list[Copy] | None]:
    """The client for a ``cp`` or ``mv`` and its copies (None for ``-``, stdin or stdout).

    ``keys`` are ``--kms-key-id``, ``--kms-discovery`` and ``--format``.
    """
    if is_s3_url(source) == is_s3_url(destination):
        raise CliUsageError(
            "copies go between a local path and an s3:// URL: exactly one of SOURCE and DESTINATION is s3://"
        )
    kms_key_id, kms_discovery, format_name = keys
    stream = STREAM in (source, destination)
    if stream and recursive:
        raise CliUsageError("--recursive copies trees, not stdin or stdout ('-')")
    if is_s3_url(destination):
        if kms_discovery or not kms_key_id:
            raise CliUsageError("uploading needs --kms-key-id KEY (a discovery keyring cannot encrypt)")
        client = aws.encrypting_s3(aws.kms_keyring(kms_key_id), UPLOAD_FORMATS[format_name])
        return client, None if stream else plan_uploads(Path(source), S3Url.parse(destination), recursive)
    client = aws.encrypting_s3(aws.decrypting_keyring(kms_key_id, kms_discovery), READ_OPTIONS)
    return client, None if stream else plan_downloads(client, S3Url.parse(source), destination, recursive)


def copy_stream(client: Any, source: str, destination: str, extra_args: Mapping[str, Any]) -> None:
    """Upload stdin to an object, or download an object to stdout (only once it is authenticated)."""
    if source == STREAM:
        url = S3Url.parse(destination)
        stdin = sys.stdin.buffer
        client.upload_fileobj(stdin, url.bucket, url.object_key(), ExtraArgs=dict(extra_args))
        return
    url = S3Url.parse(source)
    url.object_key()
    head(client, url)  # a missing bucket or object is reported as such
    stdout = sys.stdout.buffer
    client.download_fileobj(url.bucket, url.key, stdout, ExtraArgs=dict(extra_args))
    stdout.flush()
