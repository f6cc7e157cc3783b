"""Property tests on hostile or arbitrary input: the parsers, the range arithmetic and the streaming ciphers.

The parsers must never fail with anything but an :class:`s3crypt.S3CryptError`; the range arithmetic must agree
with a model of what S3 returns for the plaintext; encrypt -> decrypt must give back any body however the
reads on either side are cut.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from s3crypt import AlgorithmSuite, ConfigurationError, DecryptionError, S3CryptError
from s3crypt._core.ranges import PlaintextRange, window
from s3crypt._crypto.content import content_cipher
from s3crypt._crypto.streams import AuthenticatedReader, DelayedAuthReader, EncryptingStream, GcmMessage, RangeReader
from s3crypt._crypto.suites import GCM_TAG_LENGTH
from s3crypt._format import instruction, metadata
from s3crypt._format.metadata import EncryptedDataKey, Envelope

V3 = AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY
V2 = AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF
DATA_KEY = bytes(range(32))
CRYPTO_KEYS = sorted(metadata.ALL_KEYS)

VALID = {
    "v3": metadata.encode(
        Envelope(V3, EncryptedDataKey("kms+context", b"wrapped", {"aws:x-amz-cek-alg": "115"}), bytes(28), bytes(28))
    ),
    "v2": metadata.encode(
        Envelope(V2, EncryptedDataKey("AES/GCM", b"wrapped", {"owner": "me"}), bytes(12), plaintext_length=5)
    ),
}

# --- parsers ---------------------------------------------------------------------------------------------------

hostile_text = st.one_of(
    st.text(max_size=60),
    st.builds(lambda s: f"=?UTF-8?B?{s}?=", st.text(max_size=20)),
    st.builds(lambda s: f"=?UTF-8?Q?{s}?=", st.text(max_size=20)),
    st.sampled_from(["", "{}", "[]", "null", "115", "114", "12", "02", "22", "128", "-1", "AAAA", "AA==", "=" * 4]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)


@st.composite
def mutated_metadata(draw: st.DrawFn) -> dict[str, str]:
    """A valid V2 or V3 metadata dict with some entries removed, replaced, added or their names re-cased."""
    candidate = dict(VALID[draw(st.sampled_from(sorted(VALID)))])
    for _ in range(draw(st.integers(1, 4))):
        key = draw(st.sampled_from([*CRYPTO_KEYS, *candidate, "x-amz-meta-other"]))
        action = draw(st.sampled_from(["delete", "replace", "upper"]))
        if action == "delete":
            candidate.pop(key, None)
        elif action == "upper" and key in candidate:
            candidate[key.upper()] = candidate.pop(key)
        else:
            candidate[key] = draw(hostile_text)
    return candidate


def parses_or_refuses(candidate: dict[str, str]) -> Envelope | None:
    """The parser's answer; any exception but :class:`S3CryptError` fails the test."""
    try:
        return metadata.decode(candidate)
    except S3CryptError:
        return None


@settings(max_examples=400)
@given(mutated_metadata())
def test_mutated_metadata_never_crashes(candidate: dict[str, str]) -> None:
    parses_or_refuses(candidate)


@settings(max_examples=300)
@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.builds(lambda value: json.dumps(value).encode(), json_values),
        st.builds(
            lambda entries: json.dumps(entries).encode(),
            st.dictionaries(st.sampled_from([*CRYPTO_KEYS, instruction.MARKER]), hostile_text, max_size=8),
        ),
    ),
    object_metadata=st.sampled_from([{}, {"x-amz-c": "115"}, {k: v for k, v in VALID["v3"].items() if k != "x-amz-3"}]),
)
def test_arbitrary_instruction_files_never_crash(body: bytes, object_metadata: dict[str, str]) -> None:
    try:
        merged = instruction.merge(object_metadata, body, "k.instruction")
    except S3CryptError:
        return
    parses_or_refuses(merged)


# --- range arithmetic ------------------------------------------------------------------------------------------


def s3_serves(header: str, size: int) -> tuple[int, int] | None:
    """What S3 sends for ``Range: header`` on an object of ``size`` bytes: (first, last) or None for a 416."""
    first, last = header.removeprefix("bytes=").split("-")
    if not first:
        return (max(0, size - int(last)), size - 1) if size and int(last) else None
    if int(first) >= size:
        return None
    return int(first), size - 1 if not last else min(int(last), size - 1)


ranges = st.one_of(
    st.builds(lambda a, n: f"bytes={a}-{a + n}", st.integers(0, 2**40), st.integers(0, 2**40)),
    st.builds(lambda a: f"bytes={a}-", st.integers(0, 2**40)),
    st.builds(lambda n: f"bytes=-{n}", st.integers(0, 2**40)),
)
sizes = st.one_of(st.integers(0, 100), st.integers(0, 2**36 - 32))


@settings(max_examples=1000)
@given(header=ranges, plaintext_size=sizes)
def test_range_arithmetic_matches_s3_on_the_plaintext(header: str, plaintext_size: int) -> None:
    requested = PlaintextRange.parse(header)
    object_size = plaintext_size + GCM_TAG_LENGTH
    served = s3_serves(requested.ciphertext_header(), object_size)
    if served is None:
        assert s3_serves(header, plaintext_size) is None
        return
    content_range = f"bytes {served[0]}-{served[1]}/{object_size}"
    found = window(requested, content_range, served[1] - served[0] + 1)
    expected = s3_serves(header, plaintext_size)
    if found is None or found.whole_object:  # nothing to return; an empty plaintext is sent whole
        assert expected is None
        assert found is None or found.length == 0
    else:
        assert expected == (found.start, found.start + found.length - 1)


@given(st.text(max_size=40))
def test_arbitrary_range_headers_parse_or_are_refused(header: str) -> None:
    try:
        requested = PlaintextRange.parse(header)
    except ConfigurationError:
        return
    assert requested.ciphertext_header().startswith("bytes=")


@given(content_range=st.text(max_size=40), content_length=st.integers(0, 2**40))
def test_arbitrary_content_ranges_never_crash(content_range: str, content_length: int) -> None:
    with contextlib.suppress(DecryptionError):
        window(PlaintextRange.parse("bytes=5-99"), content_range, content_length)


# --- streaming ciphers -----------------------------------------------------------------------------------------


class ShortReads(io.RawIOBase):
    """A source that returns fewer bytes than asked, in a pattern chosen by the test (like a socket)."""

    def __init__(self, data: bytes, limits: list[int]) -> None:
        self._data = io.BytesIO(data)
        self._limits = limits or [len(data) or 1]
        self._calls = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        limit = self._limits[self._calls % len(self._limits)]
        self._calls += 1
        view = memoryview(buffer)[:limit]
        return self._data.readinto(view)


def read_with(stream: Any, sizes: list[int], use_readinto: bool) -> bytes:
    out = bytearray()
    for size in sizes:
        if use_readinto:
            buffer = bytearray(size)
            out += buffer[: stream.readinto(buffer)]
        else:
            out += stream.read(size)
    while chunk := stream.read(977):
        out += chunk
    return bytes(out)


chunkings = st.lists(st.integers(1, 3000), max_size=12)
source_limits = st.lists(st.integers(1, 2000), max_size=6)


@settings(max_examples=150, deadline=None)
@given(
    plaintext=st.binary(max_size=20_000),
    suite=st.sampled_from([V2, V3]),
    write_sizes=chunkings,
    limits=source_limits,
    read_sizes=chunkings,
    reader=st.sampled_from(["authenticated", "spooled", "delayed"]),
    use_readinto=st.booleans(),
)
def test_encrypt_then_decrypt_any_body_with_any_chunking(
    plaintext: bytes,
    suite: AlgorithmSuite,
    write_sizes: list[int],
    limits: list[int],
    read_sizes: list[int],
    reader: str,
    use_readinto: bool,
) -> None:
    cipher = content_cipher(suite, DATA_KEY, bytes(range(suite.iv_length)))
    encrypting = EncryptingStream(io.BytesIO(plaintext), len(plaintext), GcmMessage(cipher, len(plaintext)))
    ciphertext = read_with(encrypting, write_sizes, use_readinto=False)
    assert len(ciphertext) == len(plaintext) + GCM_TAG_LENGTH
    source = ShortReads(ciphertext, limits)
    decrypting: io.RawIOBase
    if reader == "delayed":
        decrypting = DelayedAuthReader(source, len(ciphertext), cipher)
    else:
        memory_limit = 4096 if reader == "spooled" else 1 << 20
        decrypting = AuthenticatedReader(source, len(ciphertext), cipher, memory_limit)
    with decrypting:
        assert read_with(decrypting, read_sizes, use_readinto) == plaintext


@settings(max_examples=150, deadline=None)
@given(plaintext=st.binary(min_size=1, max_size=5000), limits=source_limits, data=st.data())
def test_range_reader_with_short_reads(plaintext: bytes, limits: list[int], data: st.DataObject) -> None:
    cipher = content_cipher(V3, DATA_KEY, bytes(V3.iv_length))
    ciphertext = EncryptingStream(io.BytesIO(plaintext), len(plaintext), GcmMessage(cipher, len(plaintext))).read()
    start = data.draw(st.integers(0, len(plaintext) - 1))
    length = data.draw(st.integers(1, len(plaintext) - start))
    served_from = data.draw(st.integers(0, start))
    reader = RangeReader(ShortReads(ciphertext[served_from:], limits), cipher, served_from, start, length)
    read_sizes, use_readinto = data.draw(chunkings), data.draw(st.booleans())
    assert read_with(reader, read_sizes, use_readinto) == plaintext[start : start + length]
