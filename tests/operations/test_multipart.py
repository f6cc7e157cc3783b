"""The multipart API: one GCM message per upload, parts in order, the tag at the end of the last part."""

from __future__ import annotations

import os
from typing import Any

import pytest

import s3crypt
from tests.conftest import BUCKET

pytestmark = pytest.mark.front_ends  # each test runs on the sync and the asyncio client

MIB = 1024 * 1024


def start(client: Any, key: str = "mp", **kwargs: Any) -> str:
    upload_id: str = client.create_multipart_upload(Bucket=BUCKET, Key=key, **kwargs)["UploadId"]
    return upload_id


def part(client: Any, upload_id: str, number: int, body: bytes, key: str = "mp", **kwargs: Any) -> dict[str, Any]:
    etag = client.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=number, Body=body, **kwargs)[
        "ETag"
    ]
    return {"ETag": etag, "PartNumber": number}


def complete(client: Any, upload_id: str, parts: list[dict[str, Any]], key: str = "mp") -> None:
    client.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})


@pytest.mark.parametrize("version", ["v3", "v2"])
def test_parts_in_order_round_trip(request: pytest.FixtureRequest, plain_s3: Any, version: str) -> None:
    client = request.getfixturevalue("s3c" if version == "v3" else "s3c_v2")
    bodies = [os.urandom(5 * MIB), os.urandom(5 * MIB + 3), os.urandom(1000)]
    upload_id = start(client, EncryptionContext={"job": "mp"}, Metadata={"owner": "me"})
    parts = [part(client, upload_id, i + 1, body, IsLastPart=i == 2) for i, body in enumerate(bodies)]
    complete(client, upload_id, parts)

    stored = plain_s3.get_object(Bucket=BUCKET, Key="mp")
    assert stored["ContentLength"] == sum(map(len, bodies)) + 16
    assert stored["Metadata"]["owner"] == "me"
    got = client.get_object(Bucket=BUCKET, Key="mp", EncryptionContext={"job": "mp"})
    assert got["Body"].read() == b"".join(bodies)


def test_parts_out_of_order_or_twice_are_refused(s3c: Any) -> None:
    upload_id = start(s3c)
    with pytest.raises(s3crypt.ConfigurationError, match=r"out of order.*next part is 1"):
        part(s3c, upload_id, 2, b"x")
    part(s3c, upload_id, 1, os.urandom(5 * MIB))
    part(s3c, upload_id, 2, b"last", IsLastPart=True)
    with pytest.raises(s3crypt.ConfigurationError, match="marked IsLastPart"):
        part(s3c, upload_id, 3, b"x")
    with pytest.raises(s3crypt.ConfigurationError, match="marked IsLastPart"):
        part(s3c, upload_id, 1, b"other")


def test_a_part_is_never_sent_twice(s3c: Any) -> None:
    upload_id = start(s3c)
    part(s3c, upload_id, 1, os.urandom(5 * MIB))
    with pytest.raises(s3crypt.ConfigurationError, match="same keystream"):
        part(s3c, upload_id, 1, os.urandom(5 * MIB))


def test_an_unmarked_part_under_5_mib_ends_the_message(s3c: Any) -> None:
    sent: list[int] = []
    s3c.meta.events.register("before-send.s3.UploadPart", lambda **_: sent.append(1))
    upload_id = start(s3c)
    bodies = [os.urandom(5 * MIB), b"only the last part may be this small"]
    parts = [part(s3c, upload_id, number, body) for number, body in enumerate(bodies, start=1)]
    with pytest.raises(
        s3crypt.ConfigurationError, match=r"part 2 ended the encrypted message .*smaller than S3's 5 MiB"
    ):
        part(s3c, upload_id, 3, b"one more")
    assert len(sent) == 2
    complete(s3c, upload_id, parts)
    assert s3c.get_object(Bucket=BUCKET, Key="mp")["Body"].read() == b"".join(bodies)


def test_an_unmarked_last_part_of_5_mib_is_followed_by_the_tag_at_completion(s3c: Any, plain_s3: Any) -> None:
    upload_id = start(s3c)
    bodies = [os.urandom(5 * MIB), os.urandom(5 * MIB + 1)]
    parts = [part(s3c, upload_id, number, body) for number, body in enumerate(bodies, start=1)]
    with pytest.raises(s3c.exceptions.ClientError, match="InvalidPart"):  # S3 refuses; the tag part is kept
        complete(s3c, upload_id, [{**parts[0], "ETag": '"0"'}, parts[1]])
    complete(s3c, upload_id, parts)  # a retried completion lists the part holding the tag again
    assert plain_s3.head_object(Bucket=BUCKET, Key="mp", PartNumber=3)["ContentLength"] == 16
    assert s3c.get_object(Bucket=BUCKET, Key="mp")["Body"].read() == b"".join(bodies)


def test_completing_an_upload_without_parts_is_refused(s3c: Any) -> None:
    upload_id = start(s3c)
    with pytest.raises(s3crypt.ConfigurationError, match="no part was uploaded"):
        complete(s3c, upload_id, [])


def test_foreign_or_finished_uploads_are_refused(s3c: Any) -> None:
    with pytest.raises(s3crypt.ConfigurationError, match="not created by this client"):
        part(s3c, "no-such-upload", 1, b"x")
    upload_id = start(s3c)
    s3c.abort_multipart_upload(Bucket=BUCKET, Key="mp", UploadId=upload_id)
    with pytest.raises(s3crypt.ConfigurationError, match="already completed or aborted"):
        part(s3c, upload_id, 1, b"x")


def test_copied_parts_cannot_enter_an_encrypted_upload(s3c: Any, plain_s3: Any) -> None:
    plain_s3.put_object(Bucket=BUCKET, Key="src", Body=b"plaintext elsewhere")
    upload_id = start(s3c)
    with pytest.raises(s3crypt.ConfigurationError, match="upload_part_copy"):
        s3c.upload_part_copy(
            Bucket=BUCKET, Key="mp", UploadId=upload_id, PartNumber=1, CopySource={"Bucket": BUCKET, "Key": "src"}
        )


def test_a_bad_is_last_part_value(s3c: Any) -> None:
    upload_id = start(s3c)
    with pytest.raises(s3crypt.ConfigurationError, match="IsLastPart must be"):
        part(s3c, upload_id, 1, b"x", IsLastPart="yes")
