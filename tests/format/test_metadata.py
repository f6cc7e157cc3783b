"""The envelope <-> metadata mapping, without S3."""

from __future__ import annotations

import base64
import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3crypt import AlgorithmSuite, FormatError, NotEncryptedError
from s3crypt._format import metadata
from s3crypt._format.context import decode_rfc2047, encode_json, validate_user_context
from s3crypt._format.metadata import EncryptedDataKey, Envelope

V3 = AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY
V2 = AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF
KMS_CONTEXT = {"tenant": "ä", "aws:x-amz-cek-alg": "115"}


def v3_envelope() -> Envelope:
    return Envelope(
        suite=V3,
        data_key=EncryptedDataKey("kms+context", b"wrapped-key", KMS_CONTEXT),
        iv=bytes(range(1, 29)),
        commitment=bytes(range(100, 128)),
        plaintext_length=5,
    )


def v2_envelope() -> Envelope:
    return Envelope(
        suite=V2,
        data_key=EncryptedDataKey("kms+context", b"wrapped-key", {"aws:x-amz-cek-alg": "AES/GCM/NoPadding"}),
        iv=bytes(range(12)),
        plaintext_length=5,
    )


def test_v3_encoding_is_exact() -> None:
    assert metadata.encode(v3_envelope()) == {
        "x-amz-c": "115",
        "x-amz-d": base64.b64encode(bytes(range(100, 128))).decode(),
        "x-amz-i": base64.b64encode(bytes(range(1, 29))).decode(),
        "x-amz-3": base64.b64encode(b"wrapped-key").decode(),
        "x-amz-w": "12",
        "x-amz-t": '{"tenant":"\\u00e4","aws:x-amz-cek-alg":"115"}',
    }


def test_v2_encoding_is_exact() -> None:
    assert metadata.encode(v2_envelope()) == {
        "x-amz-key-v2": base64.b64encode(b"wrapped-key").decode(),
        "x-amz-iv": base64.b64encode(bytes(range(12))).decode(),
        "x-amz-cek-alg": "AES/GCM/NoPadding",
        "x-amz-wrap-alg": "kms+context",
        "x-amz-matdesc": '{"aws:x-amz-cek-alg":"AES/GCM/NoPadding"}',
        "x-amz-tag-len": "128",
        "x-amz-unencrypted-content-length": "5",
    }


def test_round_trips() -> None:
    v3 = metadata.decode(metadata.encode(v3_envelope()))
    assert v3 == Envelope(v3_envelope().suite, v3_envelope().data_key, v3_envelope().iv, v3_envelope().commitment)
    assert metadata.decode(metadata.encode(v2_envelope())) == v2_envelope()


def test_reads_other_writers_json_and_case() -> None:
    encoded = metadata.encode(v3_envelope())
    encoded["x-amz-t"] = json.dumps(KMS_CONTEXT, ensure_ascii=False)
    mixed_case = {key.upper(): value for key, value in encoded.items()}
    assert metadata.decode(mixed_case).data_key.description == KMS_CONTEXT


def test_rfc2047_values_from_s3_are_decoded() -> None:
    raw = json.dumps(KMS_CONTEXT, ensure_ascii=False).encode()
    encoded = metadata.encode(v3_envelope())
    encoded["x-amz-t"] = f"=?UTF-8?B?{base64.b64encode(raw).decode()}?="
    assert metadata.decode(encoded).data_key.description == KMS_CONTEXT
    assert decode_rfc2047("=?UTF-8?Q?caf=C3=A9?=") == "café"
    assert decode_rfc2047("=?bogus-charset?B?AAAA?=") == "=?bogus-charset?B?AAAA?="


def test_not_encrypted() -> None:
    with pytest.raises(NotEncryptedError):
        metadata.decode({"owner": "alice"})


@pytest.mark.parametrize("v3_key", ["x-amz-t", "x-amz-w", "x-amz-m", "x-amz-c"])
def test_v2_keys_beside_a_v3_only_key_are_two_versions(v3_key: str) -> None:
    with pytest.raises(FormatError, match="two format versions"):
        metadata.decode({**metadata.encode(v2_envelope()), v3_key: "12"})


@pytest.mark.parametrize("v2_key", ["x-amz-wrap-alg", "x-amz-matdesc", "x-amz-tag-len", "x-amz-iv"])
def test_v3_keys_beside_a_v2_only_key_are_two_versions(v2_key: str) -> None:
    with pytest.raises(FormatError, match="two format versions"):
        metadata.decode({**metadata.encode(v3_envelope()), v2_key: "128"})


def test_a_v2_gcm_object_without_its_tag_length_is_refused() -> None:
    entries = metadata.encode(v2_envelope())
    del entries["x-amz-tag-len"]
    with pytest.raises(FormatError, match="lacks x-amz-tag-len"):
        metadata.decode(entries)


def test_an_absent_x_amz_t_means_an_empty_context() -> None:
    entries = metadata.encode(v3_envelope())
    del entries["x-amz-t"]
    assert metadata.decode(entries).data_key.description == {}


def test_s3s_double_encoding_of_non_ascii_metadata_is_undone() -> None:
    """metadata-strategy.md: S3 takes the UTF-8 bytes as ISO-8859-1 and returns them RFC 2047-encoded."""
    description = '{"owner":"Zoë ✓"}'
    as_s3_stores_it = description.encode().decode("latin-1")
    returned = "=?UTF-8?B?" + base64.b64encode(as_s3_stores_it.encode()).decode() + "?="
    entries = {**metadata.encode(v3_envelope()), "x-amz-t": returned}
    assert metadata.decode(entries).data_key.description == {"owner": "Zoë ✓"}


def test_two_versions_at_once() -> None:
    with pytest.raises(FormatError, match="two format versions"):
        metadata.decode({**metadata.encode(v3_envelope()), **metadata.encode(v2_envelope())})
    with pytest.raises(FormatError, match="two format versions"):
        metadata.decode({**metadata.encode(v3_envelope()), "x-amz-cek-alg": "AES/GCM/NoPadding"})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("x-amz-c", "114", "not '115'"),
        ("x-amz-c", "abc", "not '115'"),
        ("x-amz-c", "0115", "not '115'"),
        ("x-amz-c", " 115", "not '115'"),
        ("x-amz-c", "+115", "not '115'"),
        ("x-amz-w", "99", "unknown V3 wrapping"),
        ("x-amz-i", base64.b64encode(b"short").decode(), "expected 28"),
        ("x-amz-d", "not base64!", "not valid base64"),
        ("x-amz-3", "d3JhcHBlZC1rZXl=", "not canonical base64"),  # "wrapped-key" with a padding bit set
        ("x-amz-t", "[1, 2]", "not a JSON object of strings"),
        ("x-amz-t", "{", "not valid JSON"),
        ("x-amz-unencrypted-content-length", "-1", "not a byte count"),
    ],
)
def test_malformed_v3_values(key: str, value: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        metadata.decode({**metadata.encode(v3_envelope()), key: value})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("x-amz-cek-alg", "AES/CTR/NoPadding", "unknown content encryption"),
        ("x-amz-tag-len", "96", "tag length"),
        ("x-amz-iv", base64.b64encode(b"x" * 16).decode(), "expected 12"),
    ],
)
def test_malformed_v2_values(key: str, value: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        metadata.decode({**metadata.encode(v2_envelope()), key: value})


def test_incomplete_metadata_names_what_is_there() -> None:
    with pytest.raises(FormatError, match="incomplete"):
        metadata.decode({"x-amz-iv": "AAAA"})


@given(st.dictionaries(st.sampled_from([*sorted(metadata.ALL_KEYS), "other"]), st.text(max_size=40)))
def test_arbitrary_metadata_never_crashes(candidate: dict[str, str]) -> None:
    with contextlib.suppress(FormatError):
        metadata.decode(candidate)


@given(st.dictionaries(st.text(min_size=1).filter(lambda k: not k.startswith("aws:")), st.text()))
def test_any_user_context_survives_json(context: dict[str, str]) -> None:
    encoded = encode_json(validate_user_context(context))
    assert encoded.isascii()
    assert json.loads(encoded) == context
