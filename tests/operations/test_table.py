"""The operation table: every operation of the installed botocore is classified, documented and enforced."""

from __future__ import annotations

import pathlib
import re
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

import s3crypt
from s3crypt.core import table
from s3crypt.testing import TEST_REGION
from tests.conftest import BUCKET

DOCS = pathlib.Path(__file__).parents[2] / "docs" / "operations.md"


def model_operations() -> list[str]:
    return list(botocore.session.get_session().get_service_model("s3").operation_names)


def test_every_operation_of_botocores_model_is_in_the_table() -> None:
    missing = sorted(set(model_operations()) - table.OPERATIONS.keys())
    assert not missing, f"classify these S3 operations in s3crypt/core/table.py: {missing}"


def test_every_operation_is_documented_as_the_table_classifies_it() -> None:
    rows = dict(re.findall(r"^\| `(\w+)` \| (\w+) \|", DOCS.read_text(), flags=re.MULTILINE))
    expected = {xform_name(name): table.OPERATIONS[name].kind.value for name in model_operations()}
    assert {name: rows.get(name) for name in expected} == expected


@pytest.fixture
def sent(s3c: Any) -> list[str]:
    """The operations that reached the network."""
    names: list[str] = []
    s3c.meta.events.register("before-send.s3", lambda request, **_: names.append(request.url))
    return names


def test_an_unknown_operation_on_an_object_fails_closed(
    s3c: Any, sent: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    sent.clear()
    monkeypatch.delitem(table.OPERATIONS, "GetObjectTagging")
    with pytest.raises(s3crypt.ConfigurationError, match=r"get_object_tagging .*does not know.*plain boto3 client"):
        s3c.get_object_tagging(Bucket=BUCKET, Key="k")
    assert sent == []


def test_an_unknown_operation_without_a_key_passes_through(s3c: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(table.OPERATIONS, "ListObjectsV2")
    assert s3c.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0


def test_s3_select_is_refused_before_anything_is_sent(s3c: Any, sent: list[str]) -> None:
    with pytest.raises(s3crypt.ConfigurationError, match=r"select_object_content is refused.*ciphertext"):
        s3c.select_object_content(
            Bucket=BUCKET,
            Key="k",
            Expression="select * from s3object",
            ExpressionType="SQL",
            InputSerialization={"CSV": {}},
            OutputSerialization={"CSV": {}},
        )
    assert sent == []


def test_a_restore_with_select_parameters_is_refused_a_plain_restore_is_sent(s3c: Any, sent: list[str]) -> None:
    select = {
        "Type": "SELECT",
        "SelectParameters": {
            "InputSerialization": {"CSV": {}},
            "ExpressionType": "SQL",
            "Expression": "select * from s3object",
            "OutputSerialization": {"CSV": {}},
        },
        "OutputLocation": {"S3": {"BucketName": BUCKET, "Prefix": "out"}},
    }
    with pytest.raises(s3crypt.ConfigurationError, match="SelectParameters"):
        s3c.restore_object(Bucket=BUCKET, Key="k", RestoreRequest=select)
    assert sent == []
    with pytest.raises(s3c.exceptions.ClientError):  # S3's own answer: the object is not archived
        s3c.restore_object(Bucket=BUCKET, Key="k", RestoreRequest={"Days": 1})
    assert len(sent) == 1


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda c: c.put_object(Bucket=BUCKET, Key="k", Body=b"x", WriteOffsetBytes=1), "WriteOffsetBytes"),
        (
            lambda c: c.complete_multipart_upload(
                Bucket=BUCKET, Key="k", UploadId="u", MultipartUpload={"Parts": []}, MpuObjectSize=1
            ),
            "MpuObjectSize",
        ),
    ],
)
def test_parameters_that_would_harm_an_encrypted_object_are_refused(
    s3c: Any, sent: list[str], call: Any, parameter: str
) -> None:
    with pytest.raises(s3crypt.ConfigurationError, match=parameter):
        call(s3c)
    assert sent == []


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("get_object", {"EncryptionContext": {"a": "b"}}),
        ("get_object", {"InstructionFileSuffix": ".x"}),
        ("put_object", {"InstructionFile": True}),
        ("put_object", {"EncryptionContext": {"a": "b"}}),
        ("upload_part", {"UploadId": "u", "PartNumber": 1, "IsLastPart": True}),
    ],
)
def test_presigning_with_s3crypt_parameters_is_refused(s3c: Any, method: str, params: dict[str, Any]) -> None:
    with pytest.raises(s3crypt.ConfigurationError, match="presigned URL"):
        s3c.generate_presigned_url(method, Params={"Bucket": BUCKET, "Key": "k", **params})


def test_presigning_is_left_as_boto3_does_it(plain_s3: Any, keyring: s3crypt.KmsKeyring, sent: list[str]) -> None:
    bound = s3crypt.client("s3", keyring=keyring, region_name=TEST_REGION, bind_object_location=True)
    copy = {"Bucket": BUCKET, "Key": "to", "CopySource": {"Bucket": BUCKET, "Key": "missing"}}
    for client in (bound, plain_s3):  # no request (the copy's source does not exist), the same URL
        url = client.generate_presigned_url("copy_object", Params=copy, ExpiresIn=60)
        assert url.split("?")[0] == f"https://{BUCKET}.s3.amazonaws.com/to"
    assert sent == []


def test_passthrough_operations_report_the_ciphertext_and_keep_the_object_readable(s3c: Any) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=b"twelve bytes", ChecksumAlgorithm="SHA256")
    attributes = s3c.get_object_attributes(Bucket=BUCKET, Key="k", ObjectAttributes=["ObjectSize", "Checksum"])
    assert attributes["ObjectSize"] == s3c.head_object(Bucket=BUCKET, Key="k")["ContentLength"] == 12 + 16
    s3c.put_object_tagging(Bucket=BUCKET, Key="k", Tagging={"TagSet": [{"Key": "t", "Value": "1"}]})
    s3c.put_object_acl(Bucket=BUCKET, Key="k", ACL="private")
    got = s3c.get_object(Bucket=BUCKET, Key="k", ChecksumMode="ENABLED")  # botocore checks the ciphertext's
    assert got["Body"].read() == b"twelve bytes"
