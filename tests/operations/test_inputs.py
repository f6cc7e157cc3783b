"""Bodies of the wrong type get botocore's kind of error naming the parameter, and nothing is stored."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

import s3crypt
from tests.conftest import BUCKET


class StrStream:
    """A file-like object of the caller's whose read() yields str."""

    def __init__(self) -> None:
        self._data = io.StringIO("text, not bytes")

    def read(self, size: int = -1) -> str:
        return self._data.read(size)


@pytest.fixture
def text_file(tmp_path: Path) -> Any:
    path = tmp_path / "text.txt"
    path.write_text("text, not bytes")
    with path.open() as opened:
        yield opened


def assert_refused(call: Any, parameter: str) -> None:
    with pytest.raises(s3crypt.InvalidParameterError, match=f"parameter {parameter}, .*opened in binary mode") as info:
        call()
    assert isinstance(info.value, ParamValidationError)
    assert isinstance(info.value, s3crypt.S3CryptError)


def assert_nothing_stored(client: Any) -> None:
    with pytest.raises(ClientError, match="404"):
        client.head_object(Bucket=BUCKET, Key="k")


def test_put_object_refuses_a_text_mode_file(s3c: Any, text_file: Any) -> None:
    assert_refused(lambda: s3c.put_object(Bucket=BUCKET, Key="k", Body=text_file), "Body")
    assert_nothing_stored(s3c)


def test_put_object_refuses_a_stream_yielding_str(s3c: Any) -> None:
    assert_refused(lambda: s3c.put_object(Bucket=BUCKET, Key="k", Body=StrStream(), ContentLength=15), "Body")
    assert_nothing_stored(s3c)


def test_upload_part_refuses_a_text_mode_file(s3c: Any, text_file: Any) -> None:
    upload_id = s3c.create_multipart_upload(Bucket=BUCKET, Key="k")["UploadId"]
    part = {"Bucket": BUCKET, "Key": "k", "UploadId": upload_id, "PartNumber": 1, "IsLastPart": True}
    assert_refused(lambda: s3c.upload_part(**part, Body=text_file), "Body")


@pytest.mark.parametrize("given", ["text_file", "str_stream", "number", "string"])
def test_upload_fileobj_refuses_what_does_not_read_bytes(s3c: Any, text_file: Any, given: str) -> None:
    fileobj = {"text_file": text_file, "str_stream": StrStream(), "number": 42, "string": "text"}[given]
    assert_refused(lambda: s3c.upload_fileobj(fileobj, BUCKET, "k"), "Fileobj")
    assert_nothing_stored(s3c)
