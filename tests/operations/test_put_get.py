"""put_object / get_object through the encrypting client against the in-process moto."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from typing import Any

import pytest
from botocore.exceptions import ClientError

import s3crypt
from s3crypt._format import metadata
from s3crypt.testing import TEST_REGION
from tests.conftest import BUCKET
from tests.helpers import Unseekable

pytestmark = pytest.mark.front_ends  # each test runs on the sync and the asyncio client

SIZES = [0, 1, 15, 16, 17, 1024 * 1024 + 1]
V3_STORED_KEYS = {"x-amz-c", "x-amz-d", "x-amz-i", "x-amz-3", "x-amz-w", "x-amz-t"}
V2_STORED_KEYS = {
    "x-amz-key-v2",
    "x-amz-iv",
    "x-amz-cek-alg",
    "x-amz-wrap-alg",
    "x-amz-matdesc",
    "x-amz-tag-len",
    "x-amz-unencrypted-content-length",
}


def body_of(size: int) -> bytes:
    return bytes((i * 7 + 3) % 251 for i in range(size))


@pytest.fixture(params=["v3", "v2"])
def version_client(request: pytest.FixtureRequest) -> tuple[str, Any]:
    return request.param, request.getfixturevalue("s3c" if request.param == "v3" else "s3c_v2")


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_stores_only_ciphertext_and_the_format_keys(
    version_client: tuple[str, Any], plain_s3: Any, size: int
) -> None:
    version, client = version_client
    body = body_of(size)
    client.put_object(Bucket=BUCKET, Key="k", Body=body)

    stored = plain_s3.get_object(Bucket=BUCKET, Key="k")
    ciphertext = stored["Body"].read()
    assert len(ciphertext) == size + 16
    if size >= 16:  # a shorter body may occur in random ciphertext by chance
        assert body not in ciphertext
    assert set(stored["Metadata"]) == (V3_STORED_KEYS if version == "v3" else V2_STORED_KEYS)

    got = client.get_object(Bucket=BUCKET, Key="k")
    assert got["ContentLength"] == size
    assert got["Body"].read() == body


@pytest.mark.parametrize("body", [b"bytes body", "str body ünïcode", bytearray(b"bytearray body")])
def test_bodies_of_every_type(s3c: Any, body: Any) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=body)
    expected = body.encode() if isinstance(body, str) else bytes(body)
    assert s3c.get_object(Bucket=BUCKET, Key="k")["Body"].read() == expected


def test_file_like_body_from_its_current_position(s3c: Any) -> None:
    source = io.BytesIO(b"skip-" + body_of(5000))
    source.seek(5)
    s3c.put_object(Bucket=BUCKET, Key="k", Body=source)
    assert s3c.get_object(Bucket=BUCKET, Key="k")["Body"].read() == body_of(5000)


def test_streaming_body_interface(s3c: Any) -> None:
    body = b"line one\nline two\n" + body_of(3000)
    s3c.put_object(Bucket=BUCKET, Key="k", Body=body)
    assert b"".join(s3c.get_object(Bucket=BUCKET, Key="k")["Body"].iter_chunks(100)) == body
    assert list(s3c.get_object(Bucket=BUCKET, Key="k")["Body"].iter_lines())[:2] == [b"line one", b"line two"]
    with s3c.get_object(Bucket=BUCKET, Key="k")["Body"] as stream:
        assert stream.read(5) + stream.read() == body


def test_user_metadata_is_kept_beside_the_envelope(s3c: Any, plain_s3: Any) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=b"x", Metadata={"owner": "alice"}, ContentType="text/plain")
    got = s3c.get_object(Bucket=BUCKET, Key="k")
    assert got["Metadata"]["owner"] == "alice"
    assert got["ContentType"] == "text/plain"


@pytest.mark.parametrize("key", ["x-amz-key-v2", "X-Amz-C", "x-amz-unencrypted-content-length"])
def test_user_metadata_may_not_collide_with_the_envelope(s3c: Any, key: str, kms_calls: Any) -> None:
    with pytest.raises(s3crypt.ConfigurationError, match="reserved"):
        s3c.put_object(Bucket=BUCKET, Key="k", Body=b"x", Metadata={key: "v"})
    assert not kms_calls


def test_one_kms_call_per_object(s3c: Any, kms_calls: Any) -> None:
    for i in range(3):
        s3c.put_object(Bucket=BUCKET, Key=f"k{i}", Body=b"x")
    assert kms_calls == {"GenerateDataKey": 3}
    for i in range(3):
        s3c.get_object(Bucket=BUCKET, Key=f"k{i}")["Body"].read()
    assert kms_calls == {"GenerateDataKey": 3, "Decrypt": 3}


def test_encryption_context_round_trip_and_storage(s3c: Any, plain_s3: Any) -> None:
    context = {"tenant": "42", "purpose": "tëst"}
    s3c.put_object(Bucket=BUCKET, Key="k", Body=b"secret", EncryptionContext=context)
    stored = plain_s3.head_object(Bucket=BUCKET, Key="k")["Metadata"]["x-amz-t"]
    assert stored.isascii()
    assert s3crypt._format.context.decode_json(stored, "x-amz-t") == {**context, "aws:x-amz-cek-alg": "115"}
    got = s3c.get_object(Bucket=BUCKET, Key="k", EncryptionContext=dict(reversed(context.items())))
    assert got["Body"].read() == b"secret"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (None, "missing keys"),
        ({"tenant": "43"}, "different values for"),
        ({"tenant": "42", "other": "x"}, "unexpected keys"),
    ],
)
def test_encryption_context_mismatch_is_refused_before_kms(
    s3c: Any, kms_calls: Any, given: dict[str, str] | None, message: str
) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=b"secret", EncryptionContext={"tenant": "42"})
    kwargs = {} if given is None else {"EncryptionContext": given}
    with pytest.raises(s3crypt.DecryptionError, match=message):
        s3c.get_object(Bucket=BUCKET, Key="k", **kwargs)
    assert kms_calls["Decrypt"] == 0


@pytest.mark.parametrize(
    "context",
    [{"aws:x-amz-cek-alg": "115"}, {"aws:anything": "x"}, {"k": 1}, {1: "v"}, ["not", "a", "dict"], {"": "v"}],
)
def test_bad_encryption_contexts_are_refused(s3c: Any, kms_calls: Any, context: Any) -> None:
    with pytest.raises(s3crypt.ConfigurationError, match="EncryptionContext"):
        s3c.put_object(Bucket=BUCKET, Key="k", Body=b"x", EncryptionContext=context)
    assert not kms_calls


def test_flipped_body_byte_releases_no_plaintext(s3c: Any, plain_s3: Any) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=body_of(1000))
    stored = plain_s3.get_object(Bucket=BUCKET, Key="k")
    ciphertext = bytearray(stored["Body"].read())
    for position in (0, 500, len(ciphertext) - 1):
        tampered = bytearray(ciphertext)
        tampered[position] ^= 0x01
        plain_s3.put_object(Bucket=BUCKET, Key="t", Body=bytes(tampered), Metadata=stored["Metadata"])
        body = s3c.get_object(Bucket=BUCKET, Key="t")["Body"]
        with pytest.raises(s3crypt.DecryptionError, match="authentication"):
            body.read(1)


def _alter(value: str) -> str:
    """A different value of the same kind: base64 stays base64 of the same length, JSON stays JSON."""
    if value.startswith("{"):
        return value.replace("}", ',"extra":"x"}')
    if value.isdigit():
        return str(int(value) + 1)
    try:
        raw = bytearray(base64.b64decode(value, validate=True))
    except binascii.Error:
        return value + "X"
    raw[len(raw) // 2] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize("version", ["v3", "v2"])
def test_each_changed_metadata_value_is_refused(request: pytest.FixtureRequest, plain_s3: Any, version: str) -> None:
    client = request.getfixturevalue("s3c" if version == "v3" else "s3c_v2")
    client.put_object(Bucket=BUCKET, Key="k", Body=body_of(100))
    stored = plain_s3.get_object(Bucket=BUCKET, Key="k")
    ciphertext = stored["Body"].read()
    for key, value in stored["Metadata"].items():
        altered = {**stored["Metadata"], key: _alter(value)}
        plain_s3.put_object(Bucket=BUCKET, Key="t", Body=ciphertext, Metadata=altered)
        with pytest.raises(s3crypt.DecryptionError):
            client.get_object(Bucket=BUCKET, Key="t")["Body"].read()


@pytest.mark.parametrize("missing", sorted(V3_STORED_KEYS))
def test_missing_metadata_keys_are_refused(s3c: Any, plain_s3: Any, missing: str) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=b"data")
    stored = plain_s3.get_object(Bucket=BUCKET, Key="k")
    kept = {k: v for k, v in stored["Metadata"].items() if k != missing}
    plain_s3.put_object(Bucket=BUCKET, Key="t", Body=stored["Body"].read(), Metadata=kept)
    # An absent x-amz-t is the context {} (a MUST of the format), which lacks the reserved entry KMS needs.
    with pytest.raises(s3crypt.DecryptionError if missing == "x-amz-t" else s3crypt.FormatError):
        s3c.get_object(Bucket=BUCKET, Key="t")


def test_unencrypted_object_is_a_clear_error(s3c: Any, plain_s3: Any) -> None:
    plain_s3.put_object(Bucket=BUCKET, Key="plain", Body=b"not encrypted")
    with pytest.raises(s3crypt.NotEncryptedError, match="plain boto3 client"):
        s3c.get_object(Bucket=BUCKET, Key="plain")


def test_wrong_kms_key(plain_s3: Any, kms: Any, s3c: Any) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=b"secret")
    other_key = kms.create_key()["KeyMetadata"]["KeyId"]
    other = s3crypt.client("s3", keyring=s3crypt.KmsKeyring(other_key, kms_client=kms), region_name=TEST_REGION)
    with pytest.raises(s3crypt.DecryptionError, match="KMS could not decrypt") as caught:
        other.get_object(Bucket=BUCKET, Key="k")
    assert isinstance(caught.value.__cause__, ClientError)


def test_commitment_policy_matrix(s3c: Any, s3c_v2: Any, keyring: s3crypt.KmsKeyring) -> None:
    s3c_v2.put_object(Bucket=BUCKET, Key="v2", Body=b"old format")
    s3c.put_object(Bucket=BUCKET, Key="v3", Body=b"new format")
    with pytest.raises(s3crypt.FormatError, match="REQUIRE_ENCRYPT_ALLOW_DECRYPT"):
        s3c.get_object(Bucket=BUCKET, Key="v2")
    allowing = s3crypt.client(
        "s3",
        keyring=keyring,
        region_name=TEST_REGION,
        commitment_policy=s3crypt.CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT,
    )
    for client in (allowing, s3c_v2):
        assert client.get_object(Bucket=BUCKET, Key="v2")["Body"].read() == b"old format"
        assert client.get_object(Bucket=BUCKET, Key="v3")["Body"].read() == b"new format"


def test_unknown_length_stream_points_to_upload_fileobj(s3c: Any, kms_calls: Any) -> None:
    with pytest.raises(s3crypt.ConfigurationError, match="upload_fileobj"):
        s3c.put_object(Bucket=BUCKET, Key="k", Body=Unseekable(b"no length"))
    assert not kms_calls


def test_content_length_limits_an_unseekable_stream(s3c: Any) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=Unseekable(b"0123456789"), ContentLength=10)
    got = s3c.get_object(Bucket=BUCKET, Key="k")
    assert (got["ContentLength"], got["Body"].read()) == (10, b"0123456789")


def test_content_md5_of_the_plaintext_is_checked_and_replaced(s3c: Any, plain_s3: Any) -> None:
    body = body_of(4000)
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    s3c.put_object(Bucket=BUCKET, Key="k", Body=body, ContentMD5=md5)
    assert s3c.get_object(Bucket=BUCKET, Key="k")["Body"].read() == body
    with pytest.raises(s3crypt.ConfigurationError, match="ContentMD5 does not match"):
        s3c.put_object(Bucket=BUCKET, Key="k2", Body=body + b"!", ContentMD5=md5)


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA1", "SHA256"])
def test_checksums_are_computed_over_the_ciphertext(s3c: Any, plain_s3: Any, algorithm: str) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=body_of(2000), ChecksumAlgorithm=algorithm)
    assert s3c.get_object(Bucket=BUCKET, Key="k")["Body"].read() == body_of(2000)


def test_precomputed_plaintext_checksum_is_refused(s3c: Any) -> None:
    with pytest.raises(s3crypt.ConfigurationError, match="ChecksumAlgorithm"):
        s3c.put_object(Bucket=BUCKET, Key="k", Body=b"x", ChecksumCRC32="AAAAAA==")


@pytest.mark.parametrize("parameter", [{"Range": "bytes=0-3"}, {"PartNumber": 1}])
def test_partial_gets_are_refused(s3c: Any, parameter: dict[str, Any]) -> None:
    s3c.put_object(Bucket=BUCKET, Key="k", Body=b"0123456789")
    with pytest.raises(s3crypt.ConfigurationError, match="cannot be authenticated"):
        s3c.get_object(Bucket=BUCKET, Key="k", **parameter)


def test_envelope_describes_the_suite(s3c_v2: Any, plain_s3: Any) -> None:
    s3c_v2.put_object(Bucket=BUCKET, Key="k", Body=b"abc")
    envelope = metadata.decode(plain_s3.head_object(Bucket=BUCKET, Key="k")["Metadata"])
    assert envelope.suite is s3crypt.AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF
    assert envelope.plaintext_length == 3
    assert dict(envelope.data_key.description) == {"aws:x-amz-cek-alg": "AES/GCM/NoPadding"}


@pytest.mark.parametrize(
    ("options", "params", "asked"),
    [
        ({}, {}, False),
        ({}, {"ChecksumMode": "ENABLED"}, True),
        ({"enable_legacy_unauthenticated_modes": True}, {}, True),
        ({"enable_delayed_authentication": True}, {}, False),
    ],
)
def test_a_get_asks_for_the_ciphertexts_checksum_only_when_named_or_legacy_objects_may_come_back(
    make_client: Any,
    plain_s3: Any,
    keyring: s3crypt.KmsKeyring,
    options: dict[str, Any],
    params: dict[str, str],
    asked: bool,
) -> None:
    # botocore adds ChecksumMode to every GetObject by default; the GCM tag already authenticates every byte.
    client = make_client(keyring=keyring, **options)
    client.put_object(Bucket=BUCKET, Key="k", Body=b"data" * 100)
    modes: list[bool] = []
    client.meta.events.register(
        "before-send.s3.GetObject", lambda request, **_: modes.append("x-amz-checksum-mode" in request.headers)
    )

    got = client.get_object(Bucket=BUCKET, Key="k", **params)

    assert got["Body"].read() == b"data" * 100
    assert modes == [asked]
    assert ("ChecksumCRC32" in got) is asked
