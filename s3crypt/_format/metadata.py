"""Object metadata of the V2 and V3 formats (and reading V1): :class:`Envelope` <-> ``Metadata`` dict.

Keys are those of boto3's ``Metadata`` (without the ``x-amz-meta-`` prefix S3 adds on the wire).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field

from s3crypt._crypto.suites import GCM_TAG_LENGTH, AlgorithmSuite
from s3crypt._errors import FormatError, NotEncryptedError
from s3crypt._format.context import LEGACY_KEY_ID, decode_json, decode_rfc2047, encode_json

KMS_CONTEXT = "kms+context"
AES_GCM = "AES/GCM"
RSA_OAEP_SHA1 = "RSA-OAEP-SHA1"
LEGACY_KMS = "kms"
LEGACY_AES_ECB = "AES"
LEGACY_RSA_PKCS1 = "RSA"
LEGACY_WRAPPINGS = frozenset(
    {LEGACY_KMS, "AESWrap", LEGACY_AES_ECB, LEGACY_RSA_PKCS1, "RSA/ECB/OAEPWithSHA-256AndMGF1Padding"}
)

# V2 (and V1) keys
KEY_V1 = "x-amz-key"
KEY_V2 = "x-amz-key-v2"
IV = "x-amz-iv"
CEK_ALG = "x-amz-cek-alg"
WRAP_ALG = "x-amz-wrap-alg"
MATDESC = "x-amz-matdesc"
TAG_LEN = "x-amz-tag-len"
PLAINTEXT_LENGTH = "x-amz-unencrypted-content-length"
# V3 keys
V3_CONTENT_ALG = "x-amz-c"
V3_COMMITMENT = "x-amz-d"
V3_MESSAGE_ID = "x-amz-i"
V3_KEY = "x-amz-3"
V3_WRAP_ALG = "x-amz-w"
V3_KMS_CONTEXT = "x-amz-t"
V3_MATDESC = "x-amz-m"

V1_KEYS = frozenset({KEY_V1, IV, MATDESC, PLAINTEXT_LENGTH})
V2_KEYS = frozenset({KEY_V2, IV, CEK_ALG, WRAP_ALG, MATDESC, TAG_LEN, PLAINTEXT_LENGTH})
V3_KEYS = frozenset({V3_CONTENT_ALG, V3_COMMITMENT, V3_MESSAGE_ID, V3_KEY, V3_WRAP_ALG, V3_KMS_CONTEXT, V3_MATDESC})
ALL_KEYS = V1_KEYS | V2_KEYS | V3_KEYS
# Keys of one format that another format must not hold beside its own (content-metadata.md: SHOULD throw).
_NOT_BESIDE_V3 = (V1_KEYS | V2_KEYS) - {PLAINTEXT_LENGTH}
_NOT_BESIDE_V1_V2 = V3_KEYS
_V3_CONTENT_ID = str(AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY.value)
_LARGEST_AES_WRAPPED_KEY = 48  # 32 bytes + 16 of padding: a longer V1 key without x-amz-wrap-alg is RSA-wrapped

_V3_WRAP_CODES = {KMS_CONTEXT: "12", AES_GCM: "02", RSA_OAEP_SHA1: "22"}
_V3_WRAP_NAMES = {code: name for name, code in _V3_WRAP_CODES.items()}
_GCM_CIPHER = AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF.cipher_name
_CBC_CIPHER = AlgorithmSuite.ALG_AES_256_CBC_IV16_NO_KDF.cipher_name


@dataclass(frozen=True)
class EncryptedDataKey:
    """A wrapped data key as stored with an object.

    ``description`` is the KMS encryption context for ``kms+context`` (reserved entry included) or the
    material description for raw keyrings.
    """

    wrapping_algorithm: str
    ciphertext: bytes = field(repr=False)
    description: Mapping[str, str]


@dataclass(frozen=True)
class Envelope:
    """Everything the metadata of an encrypted object says about how to decrypt it."""

    suite: AlgorithmSuite
    data_key: EncryptedDataKey
    iv: bytes
    """The IV (V1/V2) or the message id (V3)."""
    commitment: bytes | None = None
    plaintext_length: int | None = None


def encode(envelope: Envelope) -> dict[str, str]:
    """The metadata entries that describe ``envelope``, in the V3 or V2 format by its suite."""
    edk = envelope.data_key
    if envelope.suite.is_committing:
        assert envelope.commitment is not None
        description_key = V3_KMS_CONTEXT if edk.wrapping_algorithm == KMS_CONTEXT else V3_MATDESC
        metadata = {
            V3_CONTENT_ALG: str(envelope.suite.value),
            V3_COMMITMENT: _b64(envelope.commitment),
            V3_MESSAGE_ID: _b64(envelope.iv),
            V3_KEY: _b64(edk.ciphertext),
            V3_WRAP_ALG: _V3_WRAP_CODES[edk.wrapping_algorithm],
            description_key: encode_json(edk.description),
        }
    else:
        metadata = {
            KEY_V2: _b64(edk.ciphertext),
            IV: _b64(envelope.iv),
            CEK_ALG: envelope.suite.cipher_name,
            WRAP_ALG: edk.wrapping_algorithm,
            MATDESC: encode_json(edk.description),
        }
        if not envelope.suite.is_legacy:
            metadata[TAG_LEN] = str(GCM_TAG_LENGTH * 8)
        if envelope.plaintext_length is not None:
            metadata[PLAINTEXT_LENGTH] = str(envelope.plaintext_length)
    return metadata


def has_crypto_keys(metadata: Mapping[str, str]) -> bool:
    return any(key in ALL_KEYS for key in metadata)


def decode(metadata: Mapping[str, str]) -> Envelope:
    """Read the envelope from an object's metadata; :class:`FormatError` if it is missing or malformed."""
    meta = {key.lower(): decode_rfc2047(value) for key, value in metadata.items()}
    v3 = {V3_KEY, V3_COMMITMENT, V3_MESSAGE_ID} <= meta.keys()
    v2 = {KEY_V2, IV} <= meta.keys()
    v1 = {KEY_V1, IV} <= meta.keys()
    foreign = _NOT_BESIDE_V3 if v3 else _NOT_BESIDE_V1_V2 if v2 or v1 else frozenset()
    if v3 + v2 + v1 > 1 or meta.keys() & foreign:
        raise FormatError("the object's metadata holds keys of two format versions at once: it was tampered with")
    if v3:
        return _decode_v3(meta)
    if v2:
        return _decode_v2(meta)
    if v1:
        return _decode_v1(meta)
    if has_crypto_keys(meta):
        present = ", ".join(sorted(meta.keys() & ALL_KEYS))
        raise FormatError(f"the object's crypto metadata is incomplete (only {present}): it was altered")
    raise NotEncryptedError(
        "the object has no client-side encryption metadata: it was not written by s3crypt or an "
        "S3 Encryption Client; read it with a plain boto3 client"
    )


def _decode_v3(meta: dict[str, str]) -> Envelope:
    if _require(meta, V3_CONTENT_ALG) != _V3_CONTENT_ID:
        raise FormatError(f"a V3 object names content algorithm {meta[V3_CONTENT_ALG]!r}, not {_V3_CONTENT_ID!r}")
    suite = AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY
    code = _require(meta, V3_WRAP_ALG)
    wrapping = _V3_WRAP_NAMES.get(code)
    if wrapping is None:
        raise FormatError(f"unknown V3 wrapping algorithm code {code!r}")
    if wrapping == KMS_CONTEXT:  # content-metadata.md: an absent x-amz-t means {}
        description = decode_json(meta.get(V3_KMS_CONTEXT, "{}"), V3_KMS_CONTEXT)
    else:
        description = decode_json(meta.get(V3_MATDESC, "{}"), V3_MATDESC)
    return Envelope(
        suite=suite,
        data_key=EncryptedDataKey(wrapping, _unb64(meta, V3_KEY), description),
        iv=_sized(_unb64(meta, V3_MESSAGE_ID), suite.iv_length, V3_MESSAGE_ID),
        commitment=_sized(_unb64(meta, V3_COMMITMENT), 28, V3_COMMITMENT),
        plaintext_length=_length(meta),
    )


def _decode_v2(meta: dict[str, str]) -> Envelope:
    cek_alg = _require(meta, CEK_ALG)
    if cek_alg == _GCM_CIPHER:
        suite = AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF
        tag_len = _require(meta, TAG_LEN)
        if tag_len != str(GCM_TAG_LENGTH * 8):
            raise FormatError(f"unsupported GCM tag length {tag_len!r} bits (only 128 exists in the format)")
    elif cek_alg == _CBC_CIPHER:
        suite = AlgorithmSuite.ALG_AES_256_CBC_IV16_NO_KDF
        if TAG_LEN in meta:
            raise FormatError(f"an AES-CBC object has no tag, yet its metadata holds {TAG_LEN}: it was altered")
    else:
        raise FormatError(f"unknown content encryption algorithm {cek_alg!r}")
    return Envelope(
        suite=suite,
        data_key=EncryptedDataKey(
            _require(meta, WRAP_ALG), _unb64(meta, KEY_V2), decode_json(meta.get(MATDESC, "{}"), MATDESC)
        ),
        iv=_sized(_unb64(meta, IV), suite.iv_length, IV),
        plaintext_length=_length(meta),
    )


def _decode_v1(meta: dict[str, str]) -> Envelope:
    suite = AlgorithmSuite.ALG_AES_256_CBC_IV16_NO_KDF
    description = decode_json(meta.get(MATDESC, "{}"), MATDESC)
    wrapped = _unb64(meta, KEY_V1)
    return Envelope(
        suite=suite,
        data_key=EncryptedDataKey(_v1_wrapping(meta, description, wrapped), wrapped, description),
        iv=_sized(_unb64(meta, IV), suite.iv_length, IV),
        plaintext_length=_length(meta),
    )


def _v1_wrapping(meta: Mapping[str, str], description: Mapping[str, str], wrapped: bytes) -> str:
    """A V1 object's wrapping: ``x-amz-wrap-alg`` if given; else ``kms`` if its description names a KMS key,
    else ``AES`` (ECB) or ``RSA`` (PKCS#1 v1.5) by the wrapped key's length, as AWS's Java client infers it."""
    if WRAP_ALG in meta:
        return meta[WRAP_ALG]
    if LEGACY_KEY_ID in description:
        return LEGACY_KMS
    return LEGACY_RSA_PKCS1 if len(wrapped) > _LARGEST_AES_WRAPPED_KEY else LEGACY_AES_ECB


def _require(meta: Mapping[str, str], key: str) -> str:
    try:
        return meta[key]
    except KeyError:
        raise FormatError(f"the object's crypto metadata lacks {key}: it was altered") from None


def _unb64(meta: Mapping[str, str], key: str) -> bytes:
    value = _require(meta, key)
    try:
        decoded = base64.b64decode(value, validate=True)
    except ValueError:  # binascii.Error, or a non-ASCII string
        raise FormatError(f"the object's {key} is not valid base64") from None
    # Every writer emits canonical base64; a value that only decodes the same (a changed padding bit) was altered.
    if _b64(decoded) != value:
        raise FormatError(f"the object's {key} is not canonical base64: it was altered")
    return decoded


def _sized(value: bytes, length: int, key: str) -> bytes:
    if len(value) != length:
        raise FormatError(f"the object's {key} is {len(value)} bytes, expected {length}")
    return value


def _length(meta: Mapping[str, str]) -> int | None:
    value = meta.get(PLAINTEXT_LENGTH)
    if value is None:
        return None
    if not value.isdigit():
        raise FormatError(f"the object's {PLAINTEXT_LENGTH} is not a byte count: {value!r}")
    return int(value)


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")
