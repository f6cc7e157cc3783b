"""``s3crypt sync``: make a prefix match a directory, or a directory match a prefix, as ``aws s3 sync`` does.

A file is copied when the other side lacks it, when the plaintext sizes differ, or when the source is newer
(a downloaded file gets its object's modification time, so a second sync copies nothing).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from s3crypt.cli.aws import Aws, list_entries
from s3crypt.cli.copying import Copy, files_under, key_options, local_path, plan, run_copies
from s3crypt.cli.errors import EXIT_OK, CliError
from s3crypt.cli.listing import Listed, describe_entries
from s3crypt.cli.progress import Progress, output_options
from s3crypt.cli.removing import delete_objects
from s3crypt.cli.urls import S3Url, is_s3_url

FILTER_OPTIONS = ("--exclude", "--include")


@dataclass(frozen=True)
class Filters:
    """``--exclude`` and ``--include`` in the order given: every path is included unless the last pattern that
    matches it (``fnmatch``, ``*`` crossing ``/``) is an exclude. Paths are relative to the source or destination."""

    rules: tuple[tuple[str, str], ...] = ()

    def included(self, relative: str) -> bool:
        verdict = True
        for option, pattern in self.rules:
            if fnmatch.fnmatchcase(relative, pattern):
                verdict = option == "--include"
        return verdict


def filters_in(args: Sequence[str]) -> Filters:
    """The filters of a command line, in their order (click keeps each option's values, not their interleaving)."""
    rules: list[tuple[str, str]] = []
    words = iter(args)
    for word in words:
        if word == "--":
            break
        option, equals, value = word.partition("=")
        if option in FILTER_OPTIONS:
            rules.append((option, value if equals else next(words, "")))
    return Filters(tuple(rules))


class SyncCommand(click.Command):
    """A command that keeps the order of its ``--exclude`` and ``--include`` options in ``ctx.meta``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["filters"] = filters_in(args)
        return super().parse_args(ctx, args)


@dataclass(frozen=True)
class Plan:
    copies: list[Copy]
    deletions: list[str]
    """Local paths or keys on the destination side that the source lacks (for ``--delete``)."""
    times: dict[str, float]
    """The modification time of each object to download, by key."""


def remote_objects(client: Any, folder: S3Url) -> dict[str, Listed]:
    """The objects under the folder by their key relative to it, with their plaintext sizes."""
    listing = list_entries(client, folder.bucket, folder.folder)
    return {item.url.key[len(folder.folder) :]: item for item in describe_entries(client, folder.bucket, listing)}


def plan_upload_sync(client: Any, source: Path, destination: S3Url, filters: Filters) -> Plan:
    if not source.is_dir():
        raise CliError(f"not a directory: {source}")
    remote = remote_objects(client, destination)
    local = {relative: (path, size) for path, relative, size in files_under(source) if filters.included(relative)}
    copies = [
        Copy(path, destination.child(destination.folder + relative), size, upload=True)
        for relative, (path, size) in local.items()
        if _differs(size, path.stat().st_mtime, remote.get(relative), upload=True)
    ]
    deletions = [remote[name].url.key for name in remote if name not in local and filters.included(name)]
    return Plan(copies, deletions, {})


def plan_download_sync(client: Any, source: S3Url, destination: Path, filters: Filters) -> Plan:
    remote = {name: item for name, item in remote_objects(client, source).items() if filters.included(name)}
    local = {relative: path for path, relative, _ in files_under(destination)} if destination.is_dir() else {}
    copies = []
    for name, item in remote.items():
        path = local.get(name)
        stat = path.stat() if path else None
        if stat is None or _differs(stat.st_size, stat.st_mtime, item, upload=False):
            copies.append(Copy(local_path(destination, name), item.url, item.plaintext_size or 0, upload=False))
    deletions = [str(path) for name, path in local.items() if name not in remote and filters.included(name)]
    times = {item.url.key: item.last_modified.timestamp() for item in remote.values()}
    return Plan(copies, deletions, times)


def _differs(local_size: int, local_mtime: float, remote: Listed | None, upload: bool) -> bool:
    if remote is None or remote.plaintext_size != local_size:
        return True
    # S3 keeps whole seconds: a file written in the second of its upload is not newer than its object.
    local_seconds, remote_seconds = int(local_mtime), int(remote.last_modified.timestamp())
    return local_seconds > remote_seconds if upload else remote_seconds > local_seconds


def keep_modification_time(items: dict[str, float]) -> Any:
    """What sets a downloaded file's modification time to its object's, so that the next sync skips it."""

    def stamp(copy: Copy) -> None:
        if not copy.upload:
            mtime = items[copy.remote.key]
            os.utime(copy.local, (mtime, mtime))

    return stamp


@click.command(cls=SyncCommand)
@click.argument("source")
@click.argument("destination")
@click.option("--delete", is_flag=True, help="Delete what the destination has and the source lacks.")
@click.option("--exclude", multiple=True, metavar="PATTERN", help="Leave out the paths that match (repeatable).")
@click.option("--include", multiple=True, metavar="PATTERN", help="Take back the paths that match (repeatable).")
@click.option("--dryrun", is_flag=True, help="Show what would be copied and deleted, and do nothing.")
@key_options
@output_options
@click.pass_context
def sync(
    ctx: click.Context,
    source: str,
    destination: str,
    delete: bool,
    exclude: tuple[str, ...],
    include: tuple[str, ...],
    dryrun: bool,
    encryption_context: dict[str, str],
    kms_key_id: str | None,
    kms_discovery: bool,
    format_name: str,
) -> int:
    """Copy what differs between a directory and s3://BUCKET/PREFIX (either way), encrypting or decrypting.

    A file is copied when the destination lacks it, when the plaintext sizes differ, or when the source is newer.
    --exclude and --include take shell patterns matched against paths relative to SOURCE (and to DESTINATION for
    --delete); the last pattern that matches a path decides, and every path is included by default.
    """
    aws: Aws = ctx.obj
    filters: Filters = ctx.meta["filters"]
    client, _ = plan(aws, source, destination, recursive=True, keys=(kms_key_id, kms_discovery, format_name))
    if is_s3_url(destination):
        todo = plan_upload_sync(client, Path(source), S3Url.parse(destination), filters)
    else:
        todo = plan_download_sync(client, S3Url.parse(source), Path(destination), filters)
    deletions = todo.deletions if delete else []
    if dryrun:
        with Progress(0, "sync") as progress:
            for copy in todo.copies:
                progress.report("(dryrun) " + ("upload" if copy.upload else "download"), *copy.ends())
            for target in deletions:
                progress.report("(dryrun) delete", _shown(destination, target))
        return EXIT_OK
    extra_args = {"EncryptionContext": encryption_context} if encryption_context else {}
    if todo.copies:
        run_copies(client, todo.copies, extra_args, then=keep_modification_time(todo.times))
    _delete(client, destination, deletions)
    return EXIT_OK


def _shown(destination: str, target: str) -> str:
    return str(S3Url.parse(destination).child(target)) if is_s3_url(destination) else target


def _delete(client: Any, destination: str, targets: list[str]) -> None:
    if not targets:
        return
    if is_s3_url(destination):
        failed = delete_objects(client, S3Url.parse(destination).bucket, targets)
        if failed:
            raise CliError(f"{len(failed)} of {len(targets)} deletes failed: {', '.join(sorted(failed))}")
    else:
        for target in targets:
            Path(target).unlink()
    with Progress(0, "delete") as progress:
        for target in targets:
            progress.report("delete", _shown(destination, target))
