"""``s3crypt demo``: encrypt and decrypt one object against a local moto_server and show what S3 stores.

Nothing here talks to AWS: S3 and KMS are served by ``moto_server`` on 127.0.0.1, started in a child process
(``pip install "s3crypt[demo]"``) and stopped at the end. The stored bytes, metadata and decrypted body
printed are read back from that server.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from collections.abc import Mapping
from contextlib import ExitStack
from typing import Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

import s3crypt
from s3crypt.testing import TEST_CREDENTIALS, TEST_REGION, moto_server

INSTALL_HINT = 's3crypt demo needs moto_server: pip install "s3crypt[demo]"'
BUCKET = "s3crypt-demo"
KEY = "greeting.txt"
PLAINTEXT = b"Hello from s3crypt! S3 only ever sees this sentence encrypted."
CONTEXT = {"purpose": "demo", "team": "docs"}
WRONG_CONTEXT = {"purpose": "demo", "team": "sales"}

_WIDTH = 100
_LABEL = 20  # width of the label column
_HEX_BYTES = 24  # how much of the stored body to show
_VALUE_CHARS = 60  # metadata values longer than this are cut


def moto_available() -> bool:
    """Whether ``moto_server`` can run here: moto and the web server it needs (moto[server]) are installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("moto", "flask", "flask_cors"))


def run(out: TextIO | None = None) -> int:
    """Run the demo, printing to ``out`` (standard output by default); returns the exit status."""
    out = out if out is not None else sys.stdout
    if not moto_available():
        print(INSTALL_HINT, file=sys.stderr)
        return 1
    with ExitStack() as stack:
        try:
            endpoint = stack.enter_context(moto_server())
        except RuntimeError as error:
            print(f"s3crypt demo: could not start moto_server ({error}); {INSTALL_HINT}", file=sys.stderr)
            return 1
        try:
            ok = _walk_through(endpoint, out)
        except (s3crypt.S3CryptError, ClientError, BotoCoreError) as error:
            print(f"s3crypt demo failed: {type(error).__name__}: {error}", file=sys.stderr)
            return 1
    print("\nmoto_server stopped.", file=out)
    return 0 if ok else 1


def _walk_through(endpoint: str, out: TextIO) -> bool:
    def line(label: str = "", value: str = "") -> None:
        print(f"  {label:<{_LABEL}}{value}".rstrip(), file=out)

    def heading(text: str) -> None:
        print(f"\n{text}", file=out)

    # Endpoint, region and dummy credentials are passed explicitly: the demo sets no environment variables.
    aws = boto3.session.Session(
        aws_access_key_id=TEST_CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=TEST_CREDENTIALS["aws_secret_access_key"],
        region_name=TEST_REGION,
    )
    kms = aws.client("kms", endpoint_url=endpoint)
    plain_s3 = aws.client("s3", endpoint_url=endpoint)
    key_id: str = kms.create_key(Description="s3crypt demo")["KeyMetadata"]["KeyId"]
    plain_s3.create_bucket(Bucket=BUCKET)
    s3 = s3crypt.Session(aws).client("s3", keyring=s3crypt.KmsKeyring(key_id, kms_client=kms), endpoint_url=endpoint)

    print("s3crypt demo: client-side encryption against a local moto_server (no AWS account is used)", file=out)
    line("endpoint", f"{endpoint}  (moto_server: S3 and KMS)")
    line("KMS key", key_id)
    line("bucket", BUCKET)

    heading("1. put_object through an s3crypt client")
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=PLAINTEXT, EncryptionContext=CONTEXT)
    line("Key", KEY)
    line("Body", f"{PLAINTEXT!r}  ({len(PLAINTEXT)} bytes)")
    line("EncryptionContext", repr(CONTEXT))

    heading("2. What S3 stores, read back with a plain boto3 client")
    stored = plain_s3.get_object(Bucket=BUCKET, Key=KEY)
    raw: bytes = stored["Body"].read()
    shown = raw[:_HEX_BYTES].hex(" ", 4) + (" ..." if len(raw) > _HEX_BYTES else "")
    line("Body", f"{len(raw)} bytes, {len(raw) - len(PLAINTEXT)} more than the plaintext (the GCM tag)")
    line("", f"{shown}  (hex)")
    for index, (name, value) in enumerate(_metadata_rows(stored.get("Metadata") or {})):
        line("Metadata" if index == 0 else "", f"{name}  {value}")

    heading("3. get_object through the s3crypt client with the same EncryptionContext")
    decrypted: bytes = s3.get_object(Bucket=BUCKET, Key=KEY, EncryptionContext=CONTEXT)["Body"].read()
    line("Body (decrypted)", repr(decrypted))
    line("", f"{len(decrypted)} bytes, released only after the GCM tag was verified")
    if decrypted != PLAINTEXT:
        line("unexpected", "the decrypted body differs from what was put")
        return False

    heading(f"4. get_object through the s3crypt client with EncryptionContext={WRONG_CONTEXT!r}")
    try:
        s3.get_object(Bucket=BUCKET, Key=KEY, EncryptionContext=WRONG_CONTEXT)["Body"].read()
    except s3crypt.DecryptionError as error:
        label = f"  {type(error).__name__:<{_LABEL}}"
        indent = " " * len(label)
        print(textwrap.fill(str(error), _WIDTH, initial_indent=label, subsequent_indent=indent), file=out)
        return True
    line("unexpected", "the object decrypted under the wrong EncryptionContext")
    return False


def _metadata_rows(metadata: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(name, value)`` pairs, names padded to one width and long values cut, for display."""
    width = max((len(name) for name in metadata), default=0)
    rows = []
    for name in sorted(metadata, key=_metadata_order):
        value = str(metadata[name])
        if len(value) > _VALUE_CHARS:
            value = f"{value[:_VALUE_CHARS]}...  ({len(value)} characters)"
        rows.append((name.ljust(width), value))
    return rows


def _metadata_order(name: str) -> tuple[int, str]:
    order = ("x-amz-c", "x-amz-d", "x-amz-i", "x-amz-3", "x-amz-w", "x-amz-t", "x-amz-m")
    return (order.index(name) if name in order else len(order), name)
