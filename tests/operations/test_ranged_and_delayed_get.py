"""Ranged gets (AES-CTR, opt-in) and delayed authentication (opt-in) against the in-process moto."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import s3crypt
from s3crypt._core.ranges import PlaintextRange
from tests.conftest import BUCKET, V2_OPTIONS

pytestmark = pytest.mark.front_ends  # each test runs on the sync and the asyncio client

SIZES = [0, 1, 15, 16, 17, 31, 32, 33, 100]


def body_of(size: int) -> bytes:
    return bytes((i * 13 + 5) % 256 for i in range(size))


@pytest.fixture
def ranged_clients(plain_s3: Any, keyring: s3crypt.KmsKeyring, make_client: Any) -> dict[str, Any]:
    """Ranged-get clients for V3 and V2, with every size stored as plaintext and encrypted in both formats."""
    clients = {
        "v3": make_client(keyring=keyring, enable_ranged_get=True),
        "v2": make_client(keyring=keyring, enable_ranged_get=True, **V2_OPTIONS),
    }
    for size in SIZES:
        plain_s3.put_object(Bucket=BUCKET, Key=f"plain/{size}", Body=body_of(size))
        for version, client in clients.items():
            client.put_object(Bucket=BUCKET, Key=f"{version}/{size}", Body=body_of(size))
    return clients


def outcome(client: Any, key: str, header: str) -> tuple[Any, ...]:
    """What a ranged get returns: the bytes and Content-Range, or S3's error code."""
    try:
        response = client.get_object(Bucket=BUCKET, Key=key, Range=header)
    except ClientError as error:
        return ("error", error.response["Error"]["Code"])
    return (response["Body"].read(), response.get("ContentRange"), response["ContentLength"])


ranges = st.one_of(
    st.builds(lambda a, n: f"bytes={a}-{a + n}", st.integers(0, 120), st.integers(0, 120)),
    st.builds(lambda a: f"bytes={a}-", st.integers(0, 120)),
    st.builds(lambda n: f"bytes=-{n}", st.integers(1, 120)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.sampled_from(SIZES), header=ranges, version=st.sampled_from(["v3", "v2"]))
def test_every_range_gives_what_s3_gives_for_the_plaintext(
    ranged_clients: dict[str, Any], plain_s3: Any, size: int, header: str, version: str
) -> None:
    expected = outcome(plain_s3, f"plain/{size}", header)
    assert outcome(ranged_clients[version], f"{version}/{size}", header) == expected


def test_ranged_get_reads_through_the_tag_boundary(ranged_clients: dict[str, Any]) -> None:
    got = ranged_clients["v3"].get_object(Bucket=BUCKET, Key="v3/100", Range="bytes=90-200")
    assert got["Body"].read() == body_of(100)[90:]
    assert got["ContentRange"] == "bytes 90-99/100"


def test_ranged_gets_are_off_by_default_and_validated(s3c: Any, ranged_clients: dict[str, Any]) -> None:
    with pytest.raises(s3crypt.ConfigurationError, match="enable_ranged_get=True"):
        s3c.get_object(Bucket=BUCKET, Key="v3/100", Range="bytes=0-1")
    for header in ["bytes=0-1,5-6", "bytes=5-1", "items=0-1", "bytes=-"]:
        with pytest.raises(s3crypt.ConfigurationError, match="Range"):
            ranged_clients["v3"].get_object(Bucket=BUCKET, Key="v3/100", Range=header)


def test_suffix_range_asks_for_the_tag_too() -> None:
    assert PlaintextRange.parse("bytes=-10").ciphertext_header() == "bytes=-26"
    assert PlaintextRange.parse("bytes=3-").ciphertext_header() == "bytes=3-"
    assert PlaintextRange.parse(" bytes=3-9 ").ciphertext_header() == "bytes=3-9"


def test_delayed_authentication_streams_and_checks_at_the_end(
    plain_s3: Any, keyring: s3crypt.KmsKeyring, make_client: Any
) -> None:
    client = make_client(keyring=keyring, enable_delayed_authentication=True)
    body = body_of(5000)
    client.put_object(Bucket=BUCKET, Key="k", Body=body)
    assert client.get_object(Bucket=BUCKET, Key="k")["Body"].read() == body
    assert b"".join(client.get_object(Bucket=BUCKET, Key="k")["Body"].iter_chunks(1000)) == body

    stored = plain_s3.get_object(Bucket=BUCKET, Key="k")
    ciphertext = bytearray(stored["Body"].read())
    ciphertext[-1] ^= 1
    plain_s3.put_object(Bucket=BUCKET, Key="t", Body=bytes(ciphertext), Metadata=stored["Metadata"])
    stream = client.get_object(Bucket=BUCKET, Key="t")["Body"]
    assert stream.read(1000) == body[:1000]  # released before the tag: what the option trades
    with pytest.raises(s3crypt.DecryptionError, match="authentication"):
        stream.read()
