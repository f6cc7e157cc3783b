"""The ``s3crypt`` command line, in the style of ``aws s3``.

``s3crypt cp`` encrypts files into S3 and decrypts objects out of it (``--recursive`` for directory trees),
``s3crypt inspect`` shows how an object is encrypted without needing any key, ``s3crypt rewrap`` rotates the
KMS key that wraps objects' data keys in place, and ``s3crypt demo`` runs against a local moto_server.

Every command exits 0 on success and 1 on failure, with one line on stderr (``s3crypt: error: ...``, and the
traceback too with ``--debug``). An interrupt (Ctrl-C) exits 130; a download it cuts short leaves no file.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

import boto3.session
import click
from botocore.exceptions import BotoCoreError, ClientError

from s3crypt import __version__
from s3crypt.client import Session
from s3crypt.crypto.suites import GCM_TAG_LENGTH, AlgorithmSuite, CommitmentPolicy
from s3crypt.errors import FormatError, NotEncryptedError, S3CryptError
from s3crypt.format import instruction as instruction_format
from s3crypt.format import metadata
from s3crypt.format.context import RESERVED_KEY
from s3crypt.keyrings.base import Keyring
from s3crypt.keyrings.kms import KmsDiscoveryKeyring, KmsKeyring

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar
    from mypy_boto3_kms import KMSClient

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_NO_COMMAND = 2
EXIT_INTERRUPTED = 130
SCHEME = "s3://"
PROGRESS_MIN_BYTES = 1024 * 1024
"""Transfers smaller than this end too soon for a progress bar to help."""
PROGRESS_MIN_OBJECTS = 2
"""``rewrap`` draws a progress bar from this many objects on."""
INSTRUCTION_FILE_MAX_SIZE = 64 * 1024

UPLOAD_FORMATS: dict[str, dict[str, Any]] = {
    "v3": {},
    "v2": {
        "algorithm_suite": AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF,
        "commitment_policy": CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
    },
}
READ_OPTIONS: dict[str, Any] = {"commitment_policy": CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT}
"""Downloads and rewraps open both V3 and V2 objects."""
TRANSFER_ERRORS = (S3CryptError, ClientError, BotoCoreError, OSError)
"""What one object's transfer or rewrap may raise without stopping the others."""


class CliError(Exception):
    """A failure the command line reports as one line on stderr."""


# S3 URLs


@dataclass(frozen=True)
class S3Url:
    """``s3://bucket/key``; the key may be empty or a prefix."""

    bucket: str
    key: str = ""

    @classmethod
    def parse(cls, text: str) -> S3Url:
        """The bucket and key of an ``s3://`` URL, or :class:`CliError`."""
        if not is_s3_url(text):
            raise CliError(f"{text!r} is not an s3:// URL")
        bucket, _, key = text[len(SCHEME) :].partition("/")
        if not bucket:
            raise CliError(f"{text!r} names no bucket: use s3://BUCKET/KEY")
        return cls(bucket, key)

    def __str__(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.key}"

    @property
    def folder(self) -> str:
        """The key as a folder: empty, or ending with ``/`` (``s3://b/logs`` means the keys under ``logs/``)."""
        return self.key if not self.key or self.key.endswith("/") else self.key + "/"

    def object_key(self) -> str:
        """The key, which must name one object rather than a folder."""
        if not self.key or self.key.endswith("/"):
            raise CliError(f"{self} names no object; add --recursive to work on everything under it")
        return self.key


def is_s3_url(text: str) -> bool:
    return text.startswith(SCHEME)


# AWS clients


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

    def kms_keyring(self, key_id: str) -> KmsKeyring:
        return KmsKeyring(key_id, kms_client=self.kms)

    def discovery_keyring(self) -> KmsDiscoveryKeyring:
        return KmsKeyring.discovery(kms_client=self.kms)

    def decrypting_keyring(self, kms_key_id: str | None, discovery: bool) -> KmsKeyring:
        """The keyring of ``--kms-key-id`` or of ``--kms-discovery``: exactly one is needed to decrypt."""
        if discovery and kms_key_id:
            raise CliError("give either --kms-key-id or --kms-discovery, not both")
        if discovery:
            return self.discovery_keyring()
        if not kms_key_id:
            raise CliError("decrypting needs --kms-key-id KEY (or --kms-discovery to use whichever key wrapped it)")
        return self.kms_keyring(kms_key_id)


def head(client: Any, url: S3Url) -> dict[str, Any]:
    """``HeadObject``, with a 404 explained as a missing bucket or a missing object."""
    try:
        response: dict[str, Any] = client.head_object(Bucket=url.bucket, Key=url.key)
    except ClientError as error:
        if _status(error) != 404:
            raise
        raise CliError(_missing(client, url)) from None
    return response


def _missing(client: Any, url: S3Url) -> str:
    try:
        client.head_bucket(Bucket=url.bucket)
    except ClientError as error:
        if _status(error) == 404:
            return f"no such bucket: {url.bucket}"
    return f"no such object: {url}"


def _status(error: ClientError) -> int | None:
    status: int | None = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status


def list_objects(client: Any, bucket: str, prefix: str) -> list[tuple[str, int]]:
    """Keys and sizes of the objects under ``prefix``, without folder markers and instruction files."""
    sizes: dict[str, int] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        sizes.update((item["Key"], item["Size"]) for item in page.get("Contents", []))
    suffix = instruction_format.DEFAULT_SUFFIX
    return [
        (key, size)
        for key, size in sorted(sizes.items())
        if not key.endswith("/") and not (key.endswith(suffix) and key[: -len(suffix)] in sizes)
    ]


# errors


def describe(error: BaseException) -> str:
    """``error`` as one line for the user."""
    if isinstance(error, ClientError):
        info: Mapping[str, object] = error.response.get("Error", {})
        code, message, bucket = info.get("Code", "error"), info.get("Message"), info.get("BucketName")
        if code == "NoSuchBucket":
            text = f"no such bucket: {bucket}" if bucket else "no such bucket"
        else:
            text = (
                f"{message} ({code} from {error.operation_name})" if message else f"{code} from {error.operation_name}"
            )
    elif isinstance(error, OSError) and error.strerror and error.filename:
        text = f"{error.strerror}: {error.filename}"
    elif isinstance(error, (CliError, S3CryptError, BotoCoreError, OSError)):
        text = str(error)
    else:
        text = f"{type(error).__name__}: {error}"
    return " ".join(text.split())


def _report_error(message: str) -> None:
    click.echo(f"s3crypt: error: {message}", err=True)


def _usage_message(error: click.UsageError) -> str:
    message = " ".join(error.format_message().split())
    if error.ctx is not None:
        message += f" (see '{error.ctx.command_path} --help')"
    return message


# progress


def progress_wanted(stream: TextIO, total: int, minimum: int) -> bool:
    """Whether to draw a progress bar on ``stream``: only on a terminal, and only for work of ``minimum`` or more."""
    if total < minimum:
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # not a file, or closed
        return False


class Progress:
    """Counts work done (bytes or objects), from any thread, on a click progress bar when stderr is a terminal."""

    def __init__(self, total: int, label: str, minimum: int = PROGRESS_MIN_BYTES) -> None:
        self._lock = threading.Lock()
        stream = sys.stderr
        self._bar: ProgressBar[int] | None = (
            click.progressbar(length=total, label=label, file=stream, show_percent=True)
            if progress_wanted(stream, total, minimum)
            else None
        )

    @property
    def shown(self) -> bool:
        return self._bar is not None

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(kind, error, trace)

    def update(self, amount: int) -> None:
        """Add ``amount`` done; the ``Callback`` of the transfers."""
        if self._bar is not None:
            with self._lock:
                self._bar.update(amount)

    def echo(self, line: str, *, err: bool = False) -> None:
        """Print a line (on stdout, or stderr) without mixing it into the bar, which is drawn again below it."""
        with self._lock:
            if self._bar is not None:
                click.echo("\r\033[K", nl=False, err=True)
            click.echo(line, err=err)
            if self._bar is not None:
                click.echo(self._bar.format_progress_line(), nl=False, err=True)


# cp


@dataclass(frozen=True)
class Copy:
    """One file to upload or one object to download."""

    local: Path
    remote: S3Url
    size: int
    """Bytes the transfer reports through its callback (for a download, estimated from the stored size)."""
    upload: bool

    def __str__(self) -> str:
        if self.upload:
            return f"upload: {self.local} to {self.remote}"
        return f"download: {self.remote} to {self.local}"

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
            raise CliError(f"not a directory: {source} (--recursive copies a directory tree)")
        return [
            Copy(
                path,
                S3Url(destination.bucket, destination.folder + path.relative_to(source).as_posix()),
                size,
                upload=True,
            )
            for path, size in _files_under(source)
        ]
    if source.is_dir():
        raise CliError(f"{source} is a directory; add --recursive to copy its tree")
    if not source.is_file():
        raise CliError(f"no such file: {source}")
    key = destination.key if destination.key and not destination.key.endswith("/") else destination.key + source.name
    return [Copy(source, S3Url(destination.bucket, key), source.stat().st_size, upload=True)]


def _files_under(root: Path) -> list[tuple[Path, int]]:
    """Every regular file under ``root`` (following no directory links), in a stable order, with its size."""
    files = []
    for directory, subdirectories, names in os.walk(root):
        subdirectories.sort()
        for name in sorted(names):
            path = Path(directory, name)
            if path.is_file():
                files.append((path, path.stat().st_size))
    return files


def plan_downloads(client: Any, source: S3Url, destination: str, recursive: bool) -> list[Copy]:
    """The objects to download: ``source``, or with ``recursive`` every object under it, mirrored as a tree."""
    if recursive:
        prefix = source.folder
        return [
            Copy(
                _local_path(Path(destination), key[len(prefix) :]),
                S3Url(source.bucket, key),
                _plaintext_size(size),
                upload=False,
            )
            for key, size in list_objects(client, source.bucket, prefix)
        ]
    name = PurePosixPath(source.object_key()).name
    size = _plaintext_size(head(client, source)["ContentLength"])
    into_directory = destination.endswith(("/", os.sep)) or Path(destination).is_dir()
    return [Copy(Path(destination, name) if into_directory else Path(destination), source, size, upload=False)]


def _local_path(root: Path, relative: str) -> Path:
    """Where the key ``relative`` (to the prefix) goes under ``root``; a key that would escape it is refused."""
    parts = PurePosixPath(relative).parts
    path = root.joinpath(*parts)
    inside = os.path.commonpath([os.path.abspath(root), os.path.abspath(path)]) == os.path.abspath(root)
    if not parts or relative.startswith("/") or ".." in parts or not inside:
        raise CliError(f"refusing to download the key {relative!r}: its name would place it outside {root}")
    return path


def _plaintext_size(stored_size: int) -> int:
    return max(0, stored_size - GCM_TAG_LENGTH)


def run_copies(client: Any, copies: Sequence[Copy], extra_args: Mapping[str, Any]) -> None:
    """Run the copies in order under one progress bar; with several, a failure does not stop the others."""
    failed = 0
    verb = "upload" if copies and copies[0].upload else "download"
    label = f"{verb} {len(copies)} file{'s' if len(copies) != 1 else ''}"
    with Progress(sum(copy.size for copy in copies), label) as progress:
        for copy in copies:
            try:
                copy.run(client, extra_args, progress.update)
            except TRANSFER_ERRORS as error:
                if len(copies) == 1:
                    raise CliError(f"{copy.remote}: {describe(error)}") from error
                failed += 1
                progress.echo(f"s3crypt: failed: {copy.remote}: {describe(error)}", err=True)
            else:
                progress.echo(str(copy))
    if failed:
        raise CliError(f"{failed} of {len(copies)} transfers failed")


# inspect


@dataclass(frozen=True)
class Inspection:
    """How one object is encrypted, read from its metadata (and instruction file) alone."""

    url: S3Url
    format_version: str
    suite: AlgorithmSuite
    wrapping_algorithm: str
    encryption_context: Mapping[str, str] | None
    """The KMS encryption context given when it was written (``kms+context`` only; without the reserved entry)."""
    material_description: Mapping[str, str] | None
    plaintext_size: int | None
    stored_size: int
    instruction_file: S3Url | None

    def as_json(self) -> dict[str, Any]:
        return {
            "url": str(self.url),
            "format": self.format_version,
            "suite": self.suite.name,
            "wrapping_algorithm": self.wrapping_algorithm,
            "encryption_context": _dict_or_none(self.encryption_context),
            "material_description": _dict_or_none(self.material_description),
            "plaintext_size": self.plaintext_size,
            "stored_size": self.stored_size,
            "instruction_file": str(self.instruction_file) if self.instruction_file else None,
        }

    def rows(self) -> list[tuple[str, str]]:
        described = (
            ("encryption context", self.encryption_context)
            if self.encryption_context is not None
            else ("material description", self.material_description or {})
        )
        return [
            ("format", self.format_version),
            ("suite", f"{self.suite.name} (0x{self.suite.value:04X})"),
            ("wrapping", self.wrapping_algorithm),
            (described[0], json.dumps(dict(described[1]), sort_keys=True)),
            ("plaintext size", "unknown" if self.plaintext_size is None else f"{self.plaintext_size} bytes"),
            ("stored size", f"{self.stored_size} bytes"),
            ("instruction file", str(self.instruction_file) if self.instruction_file else "none"),
        ]


def _dict_or_none(mapping: Mapping[str, str] | None) -> dict[str, str] | None:
    return None if mapping is None else dict(mapping)


def inspect_object(client: Any, url: S3Url) -> Inspection:
    """Inspect the object at ``url`` with a plain S3 client: no key is needed, nothing is decrypted."""
    url.object_key()
    response = head(client, url)
    stored = {key.lower(): value for key, value in (response.get("Metadata") or {}).items()}
    instruction_file = None
    if instruction_format.needed(stored):
        instruction_file = S3Url(url.bucket, url.key + instruction_format.DEFAULT_SUFFIX)
        stored = _with_instruction_file(client, instruction_file, stored)
    envelope = metadata.decode(stored)
    size: int = response["ContentLength"]
    description = envelope.data_key.description
    is_context = envelope.data_key.wrapping_algorithm == metadata.KMS_CONTEXT
    return Inspection(
        url=url,
        format_version=_format_version(envelope.suite, stored),
        suite=envelope.suite,
        wrapping_algorithm=envelope.data_key.wrapping_algorithm,
        encryption_context={k: v for k, v in description.items() if k != RESERVED_KEY} if is_context else None,
        material_description=None if is_context else description,
        plaintext_size=envelope.plaintext_length if envelope.suite.is_legacy else _plaintext_size(size),
        stored_size=size,
        instruction_file=instruction_file,
    )


def _with_instruction_file(client: Any, location: S3Url, stored: dict[str, str]) -> dict[str, str]:
    """The object's metadata completed from its instruction file at ``location``."""
    try:
        response = client.get_object(Bucket=location.bucket, Key=location.key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in {"NoSuchKey", "404"}:
            raise
        if not metadata.has_crypto_keys(stored):
            raise NotEncryptedError(
                "the object is not client-side encrypted: it has no encryption metadata and no instruction file"
            ) from None
        raise FormatError(
            f"the object's metadata points to an instruction file, but {location} does not exist"
        ) from None
    with response["Body"] as body:
        content: bytes = body.read(INSTRUCTION_FILE_MAX_SIZE + 1)
    if len(content) > INSTRUCTION_FILE_MAX_SIZE:
        raise FormatError(f"{location} is too large to be an instruction file")
    return instruction_format.merge(stored, content, location.key)


def _format_version(suite: AlgorithmSuite, stored: Mapping[str, str]) -> str:
    if suite.is_committing:
        return "V3"
    return "V1" if metadata.KEY_V1 in stored else "V2"


# rewrap


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
                progress.echo(f"skip: {url} (not encrypted)")
            except TRANSFER_ERRORS as error:
                if len(keys) == 1:
                    raise CliError(f"{url}: {describe(error)}") from error
                tally.failed += 1
                progress.echo(f"s3crypt: failed: {url}: {describe(error)}", err=True)
            else:
                tally.rotated += 1
                progress.echo(f"rewrap: {url}")
            progress.update(1)
    return tally


# commands


def _parse_context(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    """The repeated ``--encryption-context KEY=VALUE`` options as a dict."""
    context: dict[str, str] = {}
    for value in values:
        key, equals, text = value.partition("=")
        if not equals or not key:
            raise click.BadParameter(f"{value!r} is not KEY=VALUE", ctx=ctx, param=param)
        if key in context:
            raise click.BadParameter(f"the key {key!r} is given twice", ctx=ctx, param=param)
        context[key] = text
    return context


_context_option = click.option(
    "--encryption-context",
    "encryption_context",
    multiple=True,
    metavar="KEY=VALUE",
    callback=_parse_context,
    help="An entry of the encryption context (repeatable); reads need the context the object was written with.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="s3crypt", message="%(prog)s %(version)s")
@click.option("--profile", help="The AWS profile to use.")
@click.option("--region", help="The AWS region of S3 and KMS.")
@click.option("--endpoint-url", help="Send S3 and KMS requests to this URL (for example a moto_server).")
@click.option("--debug", is_flag=True, help="Show the traceback of a failure.")
@click.pass_context
def cli(ctx: click.Context, profile: str | None, region: str | None, endpoint_url: str | None, debug: bool) -> None:
    """Client-side encryption for Amazon S3."""
    aws = ctx.ensure_object(Aws)
    aws.profile, aws.region, aws.endpoint_url, aws.debug = profile, region, endpoint_url, debug


@cli.command()
@click.argument("source")
@click.argument("destination")
@click.option("--recursive", is_flag=True, help="Copy a directory tree to a prefix, or a prefix to a directory.")
@_context_option
@click.option("--kms-key-id", help="The KMS key that wraps the data keys (needed for uploads).")
@click.option("--kms-discovery", is_flag=True, help="Download with whichever KMS key wrapped each object's data key.")
@click.option(
    "--format",
    "format_name",
    type=click.Choice(sorted(UPLOAD_FORMATS)),
    default="v3",
    show_default=True,
    help="The format of uploaded objects (v2 for readers without key commitment); downloads read both.",
)
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

    One of SOURCE and DESTINATION is s3://BUCKET/KEY, the other a local path. With --recursive a directory tree
    is mirrored under s3://BUCKET/PREFIX (taken as the folder PREFIX/), and back.
    """
    if is_s3_url(source) == is_s3_url(destination):
        raise CliError(
            "cp copies between a local path and an s3:// URL: exactly one of SOURCE and DESTINATION is s3://"
        )
    extra_args = {"EncryptionContext": encryption_context} if encryption_context else {}
    if is_s3_url(destination):
        if kms_discovery or not kms_key_id:
            raise CliError("uploading needs --kms-key-id KEY (a discovery keyring cannot encrypt)")
        client = aws.encrypting_s3(aws.kms_keyring(kms_key_id), UPLOAD_FORMATS[format_name])
        copies = plan_uploads(Path(source), S3Url.parse(destination), recursive)
    else:
        client = aws.encrypting_s3(aws.decrypting_keyring(kms_key_id, kms_discovery), READ_OPTIONS)
        copies = plan_downloads(client, S3Url.parse(source), destination, recursive)
    run_copies(client, copies, extra_args)
    return EXIT_OK


@cli.command()
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def inspect(aws: Aws, url: str, as_json: bool) -> int:
    """Show how the object at s3://BUCKET/KEY is encrypted (no key is needed)."""
    inspection = inspect_object(aws.plain_s3(), S3Url.parse(url))
    if as_json:
        click.echo(json.dumps(inspection.as_json(), indent=2))
        return EXIT_OK
    click.echo(str(inspection.url))
    for label, value in inspection.rows():
        click.echo(f"  {label:<20}{value}")
    return EXIT_OK


@cli.command()
@click.argument("url")
@click.option("--kms-key-id", required=True, help="The KMS key to wrap the data keys under from now on.")
@click.option("--recursive", is_flag=True, help="Rewrap every object under the prefix.")
@click.option(
    "--old-kms-key-id", help="The KMS key the data keys are wrapped under now (by default, whichever key it is)."
)
@_context_option
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
    click.echo(str(tally))
    if tally.failed:
        raise CliError(f"{tally.failed} of {len(keys)} objects were not rewrapped")
    return EXIT_OK


@cli.command()
def demo() -> int:
    """Encrypt and decrypt an object against a local moto_server and show what S3 stores.

    Needs moto_server (pip install "s3crypt[demo]"); no AWS account is used.
    """
    from s3crypt import demo as walkthrough

    return walkthrough.run()


# entry point


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``s3crypt`` console script; returns the exit status."""
    aws = Aws()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = cli.main(args, prog_name="s3crypt", standalone_mode=False, obj=aws)
    except click.exceptions.NoArgsIsHelpError as error:
        click.echo(error.ctx.get_help())
        return EXIT_NO_COMMAND
    except (click.Abort, KeyboardInterrupt):
        if aws.debug:
            traceback.print_exc()
        click.echo("s3crypt: interrupted", err=True)
        return EXIT_INTERRUPTED
    except click.UsageError as error:
        _report_error(_usage_message(error))
        return EXIT_FAILURE
    except click.ClickException as error:
        _report_error(" ".join(error.format_message().split()))
        return EXIT_FAILURE
    except Exception as error:
        if aws.debug:
            traceback.print_exc()
        _report_error(describe(error))
        return EXIT_FAILURE
    return result if isinstance(result, int) else EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
