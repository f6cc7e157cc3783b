"""Helpers for tests, demos and benchmarks that run against moto (``pip install s3crypt[test]``).

:func:`assert_encrypted` checks what S3 really stores. The pytest fixtures (``s3crypt_client``,
``s3crypt_raw_client``, ...) live in :mod:`s3crypt.pytest_plugin`, which pytest loads by itself once s3crypt is
installed; this module imports neither pytest nor moto, so scripts can use it without them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from s3crypt._client import EncryptionClient
from s3crypt.errors import FormatError, NotEncryptedError
from s3crypt.format import instruction, metadata
from s3crypt.format.metadata import Envelope
from s3crypt.operations import instruction as instruction_files

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["TEST_CREDENTIALS", "TEST_REGION", "assert_encrypted", "free_port", "moto_server"]

TEST_REGION = "us-east-1"
TEST_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def moto_server(command: Sequence[str] | None = None, timeout: float = 30.0) -> Iterator[str]:
    """Run ``moto_server`` on a free 127.0.0.1 port in a child process; yields its endpoint URL.

    ``command`` replaces the launcher (for example ``[sys.executable, "moto_server_ranged.py"]``); the host
    and port arguments are appended.
    """
    port = free_port()
    launcher = list(command) if command else [sys.executable, "-m", "moto.server"]
    process = subprocess.Popen(
        [*launcher, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(endpoint, process, timeout)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(endpoint: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with code {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"moto_server did not answer on {endpoint} within {timeout} s")


_MIN_SEARCHED_PLAINTEXT = 16
"""Shorter plaintexts are only compared with the stored bytes: a few bytes can occur in any ciphertext by chance."""


def assert_encrypted(
    raw_client: S3Client,
    bucket: str,
    key: str,
    plaintext: bytes | None = None,
    *,
    instruction_file_suffix: str = instruction.DEFAULT_SUFFIX,
) -> Envelope:
    """Assert that S3 stores ``bucket``/``key`` client-side encrypted; returns what its crypto metadata says.

    ``raw_client`` is a plain ``boto3.client("s3")``, which shows the stored bytes and metadata as they are. The
    object must carry S3 Encryption Client metadata (V1, V2 or V3), in its own metadata or in its instruction
    file ``key + instruction_file_suffix``. If ``plaintext`` is given, the stored bytes must differ from it and,
    for a plaintext of 16 bytes or more, must not contain it. Raises :class:`AssertionError` otherwise.
    """
    if isinstance(raw_client, EncryptionClient):
        raise TypeError("assert_encrypted needs a plain boto3 S3 client: an s3crypt client decrypts what it reads")
    where = f"s3://{bucket}/{key}"
    try:
        head = raw_client.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        raise AssertionError(f"{where} could not be read: {error}") from None
    stored_metadata: dict[str, str] = dict(head.get("Metadata") or {})
    try:
        stored_metadata = instruction_files.completed(raw_client, bucket, key, instruction_file_suffix, stored_metadata)
        envelope = metadata.decode(stored_metadata)
    except NotEncryptedError:
        raise AssertionError(
            f"{where} is not client-side encrypted: it has no S3 Encryption Client metadata and no instruction "
            f"file {key + instruction_file_suffix!r}"
        ) from None
    except FormatError as error:
        raise AssertionError(f"{where} has damaged S3 Encryption Client metadata: {error}") from None
    if plaintext is not None:
        with raw_client.get_object(Bucket=bucket, Key=key)["Body"] as body:
            stored = body.read()
        if stored == plaintext:
            raise AssertionError(f"{where} is stored as its plaintext, despite its S3 Encryption Client metadata")
        if len(plaintext) >= _MIN_SEARCHED_PLAINTEXT and plaintext in stored:
            raise AssertionError(f"the stored bytes of {where} contain the plaintext")
    return envelope
