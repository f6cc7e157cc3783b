"""The internals of boto3, botocore and s3transfer that s3crypt uses (s3crypt/_compat.py): each still exists and
still means what s3crypt relies on, and no other module of the package reaches into a dependency's internals.
A failure here means a dependency changed: adapt s3crypt/_compat.py before releasing."""

from __future__ import annotations

import ast
import pathlib
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import IncompleteReadError, ReadTimeoutError, ResponseStreamingError

import s3crypt
from s3crypt import _compat
from s3crypt.testing import TEST_REGION
from tests.conftest import BUCKET

PACKAGE = pathlib.Path(s3crypt.__file__).parent
DEPENDENCIES = ("boto3", "botocore", "s3transfer", "click")
WRAPPED = {
    ("botocore.httpchecksum", "DEFAULT_CHECKSUM_ALGORITHM"),
    ("s3transfer.utils", "S3_RETRYABLE_DOWNLOAD_ERRORS"),
}


@pytest.fixture
def fresh_default_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


@pytest.mark.usefixtures("fresh_default_session")
def test_the_default_session_is_the_one_boto3_client_uses() -> None:
    session = _compat.default_boto3_session()
    assert session is boto3._get_default_session()  # boto3's own (private) accessor agrees
    assert _compat.default_boto3_session() is session
    boto3.setup_default_session(region_name="eu-west-3")
    assert _compat.default_boto3_session() is boto3.DEFAULT_SESSION
    assert s3crypt.Session().boto3_session is boto3.DEFAULT_SESSION


def test_the_default_checksum_algorithm_is_the_one_botocore_sends(plain_s3: Any) -> None:
    client = boto3.client("s3", region_name=TEST_REGION, config=Config(request_checksum_calculation="when_supported"))
    sent: list[str] = []
    client.meta.events.register(
        "before-send.s3.PutObject",
        lambda request, **_: sent.extend(f"{name}: {value}".lower() for name, value in request.headers.items()),
    )
    client.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    checksum = f"x-amz-checksum-{_compat.DEFAULT_CHECKSUM_ALGORITHM.lower()}"
    assert any(checksum in header for header in sent)  # a header of its own, or named in x-amz-trailer


def test_the_retryable_download_errors_hold_the_ones_a_managed_download_retries() -> None:
    errors = _compat.S3_RETRYABLE_DOWNLOAD_ERRORS
    assert all(isinstance(error, type) and issubclass(error, BaseException) for error in errors)
    # Arrivals raises IncompleteReadError itself for a range cut short, and relies on it being fetched again.
    for error in (IncompleteReadError, ReadTimeoutError, ResponseStreamingError, ConnectionError):
        assert error in errors


def _uses_of_internals(path: pathlib.Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in DEPENDENCIES:
            for alias in node.names:
                private = any(part.startswith("_") for part in [*node.module.split("."), alias.name])
                if private or (node.module, alias.name) in WRAPPED:
                    found.append(f"{path.name}:{node.lineno} from {node.module} import {alias.name}")
        elif isinstance(node, ast.Import):
            found += [
                f"{path.name}:{node.lineno} import {alias.name}"
                for alias in node.names
                if alias.name.split(".")[0] in DEPENDENCIES and any(p.startswith("_") for p in alias.name.split("."))
            ]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id in DEPENDENCIES
        ):
            found.append(f"{path.name}:{node.lineno} {node.value.id}.{node.attr}")
    return found


def test_only_compat_reaches_into_the_dependencies_internals() -> None:
    modules = [path for path in PACKAGE.rglob("*.py") if path.name != "_compat.py"]
    assert len(modules) > 40
    assert [use for path in modules for use in _uses_of_internals(path)] == []
    assert _uses_of_internals(PACKAGE / "_compat.py")  # the check sees what it looks for
