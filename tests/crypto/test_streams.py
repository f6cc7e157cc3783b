"""The streaming ciphers alone: any chunking, rewinds, spooling, tampering."""

from __future__ import annotations

import io
import itertools
import os
import tempfile

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from s3crypt import AlgorithmSuite, DecryptionError, EncryptionError
from s3crypt._crypto.content import commitment_for, content_cipher, new_iv, verify_commitment
from s3crypt._crypto.rereads import PIECE
from s3crypt._crypto.streams import (
    WINDOW,
    AuthenticatedReader,
    DelayedAuthReader,
    EncryptingStream,
    GcmMessage,
    RangeReader,
    check_plaintext_length,
)
from s3crypt._crypto.suites import GCM_MAX_PLAINTEXT

V3 = AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY
V2 = AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF
DATA_KEY = bytes(range(32))


def cipher_for(suite: AlgorithmSuite = V3):  # type: ignore[no-untyped-def]
    return content_cipher(suite, DATA_KEY, bytes(range(1, suite.iv_length + 1)))


def reference(plaintext: bytes, suite: AlgorithmSuite = V3) -> bytes:
    cipher = cipher_for(suite)
    return AESGCM(cipher.key).encrypt(cipher.nonce, plaintext, cipher.aad)


def read_in(stream: io.RawIOBase, sizes: list[int]) -> bytes:
    out = bytearray()
    for size in sizes:
        out += stream.read(size)
    return bytes(out + stream.read())


@settings(max_examples=60, deadline=None)
@given(
    plaintext=st.binary(max_size=5000),
    sizes=st.lists(st.integers(min_value=1, max_value=700), max_size=20),
    suite=st.sampled_from([V2, V3]),
)
def test_encrypting_stream_matches_one_shot_gcm_for_any_chunking(
    plaintext: bytes, sizes: list[int], suite: AlgorithmSuite
) -> None:
    stream = EncryptingStream(io.BytesIO(plaintext), len(plaintext), GcmMessage(cipher_for(suite), len(plaintext)))
    assert len(stream) == len(plaintext) + 16
    assert read_in(stream, sizes) == reference(plaintext, suite)


@settings(max_examples=40, deadline=None)
@given(plaintext=st.binary(min_size=1, max_size=3000), data=st.data())
def test_any_seek_then_read_gives_the_same_bytes(plaintext: bytes, data: st.DataObject) -> None:
    expected = reference(plaintext)
    stream = EncryptingStream(io.BytesIO(plaintext), len(plaintext), GcmMessage(cipher_for(), len(plaintext)))
    stream.read(data.draw(st.integers(0, len(expected))))
    position = data.draw(st.integers(0, len(expected)))
    assert stream.seek(position) == position == stream.tell()
    assert stream.read() == expected[position:]


@settings(max_examples=60, deadline=None)
@given(
    plaintext=st.binary(min_size=1, max_size=3000),
    cuts=st.lists(st.integers(min_value=1, max_value=2999), max_size=5, unique=True),
    data=st.data(),
)
def test_parts_read_in_any_order_then_caught_up_give_the_one_shot_ciphertext(
    plaintext: bytes, cuts: list[int], data: st.DataObject
) -> None:
    bounds = [0, *sorted(c for c in cuts if c < len(plaintext)), len(plaintext)]
    parts = list(itertools.pairwise(bounds))
    message = GcmMessage(cipher_for(), len(plaintext))
    ciphertexts: dict[int, bytes] = {}
    for index in data.draw(st.permutations(range(len(parts) - 1))):
        start, end = parts[index]
        source = io.BytesIO(plaintext)
        source.seek(start)
        ciphertexts[index] = EncryptingStream(source, end - start, message, start, last=False).read()
    for start, end in parts[:-1]:  # the catch-up pass of a managed upload, cut where the parts were
        if start >= message.fed:
            message.encrypt(start, plaintext[start:end])
    start, end = parts[-1]
    source = io.BytesIO(plaintext)
    source.seek(start)
    ciphertexts[len(parts) - 1] = EncryptingStream(source, end - start, message, start).read()
    assert b"".join(ciphertexts[i] for i in range(len(parts))) == reference(plaintext)


def test_the_tag_needs_every_byte() -> None:
    message = GcmMessage(cipher_for(), 10)
    message.encrypt(0, b"12345")
    with pytest.raises(EncryptionError, match="after 5 of its 10 bytes"):
        message.tag()


def test_rewind_after_a_full_read_sends_identical_ciphertext() -> None:
    plaintext = os.urandom(3 * 1024 * 1024 + 5)
    stream = EncryptingStream(io.BytesIO(plaintext), len(plaintext), GcmMessage(cipher_for(), len(plaintext)))
    first = stream.read()
    stream.seek(0)
    assert stream.read() == first == reference(plaintext)
    assert stream.seek(0, io.SEEK_END) == len(first)


def test_short_source_is_an_error() -> None:
    stream = EncryptingStream(io.BytesIO(b"abc"), 10, GcmMessage(cipher_for(), 10))
    with pytest.raises(EncryptionError, match="ended after 3 of the 10"):
        stream.read()


def test_gcm_limit_is_refused_before_anything_happens() -> None:
    check_plaintext_length(GCM_MAX_PLAINTEXT)
    with pytest.raises(EncryptionError, match="at most"):
        GcmMessage(cipher_for(), GCM_MAX_PLAINTEXT + 1)


@settings(max_examples=40, deadline=None)
@given(
    plaintext=st.binary(max_size=4000),
    sizes=st.lists(st.integers(min_value=1, max_value=900), max_size=10),
    memory_limit=st.sampled_from([0, 100, 1 << 20]),
    suite=st.sampled_from([V2, V3]),
)
def test_authenticated_reader_round_trip(
    plaintext: bytes, sizes: list[int], memory_limit: int, suite: AlgorithmSuite
) -> None:
    ciphertext = reference(plaintext, suite)
    reader = AuthenticatedReader(io.BytesIO(ciphertext), len(ciphertext), cipher_for(suite), memory_limit)
    assert read_in(reader, sizes) == plaintext


@pytest.mark.parametrize("position", [0, 1000, 4095, 4096, 4111])
def test_any_tampered_byte_releases_nothing(position: int) -> None:
    ciphertext = bytearray(reference(os.urandom(4096)))
    ciphertext[position] ^= 0x80
    reader = AuthenticatedReader(io.BytesIO(bytes(ciphertext)), len(ciphertext), cipher_for())
    with pytest.raises(DecryptionError, match="no plaintext was released"):
        reader.read(1)


def test_truncated_and_too_short_bodies() -> None:
    ciphertext = reference(b"x" * 100)
    reader = AuthenticatedReader(io.BytesIO(ciphertext[:50]), len(ciphertext), cipher_for())
    with pytest.raises(DecryptionError, match="truncated"):
        reader.read()
    with pytest.raises(DecryptionError, match="fewer than the 16-byte GCM tag"):
        AuthenticatedReader(io.BytesIO(b"short"), 5, cipher_for())


def test_past_the_memory_limit_ciphertext_waits_in_an_anonymous_file(monkeypatch: pytest.MonkeyPatch) -> None:
    spool_dir = tempfile.mkdtemp()
    monkeypatch.setattr(tempfile, "tempdir", spool_dir)
    plaintext = os.urandom(2 * 1024 * 1024 + 7)
    ciphertext = reference(plaintext)
    reader = AuthenticatedReader(io.BytesIO(ciphertext), len(ciphertext), cipher_for(), memory_limit=1000)
    assert reader.read(10) == plaintext[:10]
    assert reader._overflow is not None
    assert os.listdir(spool_dir) == []  # unlinked at creation: nothing to leak
    reader._overflow.seek(0)
    assert reader._overflow.read() == ciphertext[992:-16]  # ciphertext, not plaintext
    reader._overflow.seek(0)
    assert reader.read(990) + reader.read(5) + reader.read() == plaintext[10:]
    reader.close()
    assert reader.closed


def test_v3_commitment_and_iv_rules() -> None:
    message_id = new_iv(V3)
    assert len(message_id) == 28
    assert any(message_id)
    verify_commitment(DATA_KEY, message_id, commitment_for(DATA_KEY, message_id))
    with pytest.raises(DecryptionError, match="commitment mismatch"):
        verify_commitment(bytes(32), message_id, commitment_for(DATA_KEY, message_id))
    assert content_cipher(V3, DATA_KEY, message_id).nonce == b"\x01" * 12
    assert content_cipher(V2, DATA_KEY, bytes(12)).key == DATA_KEY
    with pytest.raises(DecryptionError, match="needs 12"):
        content_cipher(V2, DATA_KEY, bytes(16))


def test_every_reader_works_under_a_buffered_reader() -> None:
    """readinto is what io.BufferedReader (and so open()-like wrappers) call: every reader must have it."""
    plaintext = os.urandom(10_000)
    ciphertext = reference(plaintext)
    readers = {
        "authenticated": AuthenticatedReader(io.BytesIO(ciphertext), len(ciphertext), cipher_for(), memory_limit=4096),
        "delayed": DelayedAuthReader(io.BytesIO(ciphertext), len(ciphertext), cipher_for()),
        "range": RangeReader(io.BytesIO(ciphertext[100:]), cipher_for(), 100, 150, 5000),
    }
    expected = {"authenticated": plaintext, "delayed": plaintext, "range": plaintext[150:5150]}
    for name, reader in readers.items():
        with io.BufferedReader(reader, buffer_size=777) as buffered:
            assert buffered.read() == expected[name], name


def test_one_keystream_serves_scattered_offsets_with_the_one_shot_ciphertext() -> None:
    """A keystream reused across calls restarts at an offset that does not follow its last call, mid-block too."""
    plaintext = os.urandom(3 * PIECE + 50)
    pieces = [(PIECE, 2 * PIECE), (1000, PIECE), (2 * PIECE, len(plaintext)), (0, 1000)]
    message = GcmMessage(cipher_for(), len(plaintext))
    for start, end in sorted(pieces):  # GCM passes everything first: every encrypt_into below is AES-CTR
        message.feed(start, plaintext[start:end])
    keystream = message.keystream()
    expected = reference(plaintext)
    for start, end in pieces:
        out = memoryview(bytearray(end - start + 16))
        message.encrypt_into(start, plaintext[start:end], out, keystream)
        assert bytes(out[: end - start]) == expected[start:end]


def test_feed_gives_gcm_the_plaintext_and_checks_it_like_encrypt() -> None:
    plaintext = os.urandom(2 * WINDOW + 99)
    message = GcmMessage(cipher_for(), len(plaintext))
    message.feed(0, plaintext[:PIECE])
    message.feed(0, plaintext[:PIECE])  # a re-read GCM has passed: checked, nothing fed twice
    assert message.fed == PIECE
    message.feed(PIECE, plaintext[PIECE:])
    assert message.tag() == reference(plaintext)[-16:]
    changed = bytearray(plaintext[:PIECE])
    changed[5] ^= 1
    with pytest.raises(EncryptionError, match="changed while it was being uploaded"):
        message.feed(0, bytes(changed))


class CountingSource(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads = 0

    def read(self, size: int | None = -1) -> bytes:
        self.reads += 1
        return super().read(size)


def test_small_reads_within_a_window_read_and_encrypt_its_plaintext_once() -> None:
    """botocore sends a body in 16 KiB reads: each window of plaintext is read and encrypted once for all of them."""
    plaintext = os.urandom(3 * WINDOW + 5)
    source = CountingSource(plaintext)
    stream = EncryptingStream(source, len(plaintext), GcmMessage(cipher_for(), len(plaintext)))
    assert b"".join(iter(lambda: stream.read(16384), b"")) == reference(plaintext)
    assert source.reads == 4


def test_after_a_refused_re_read_the_stream_gives_out_no_stale_ciphertext() -> None:
    plaintext = os.urandom(WINDOW + 10)
    source = CountingSource(plaintext)
    stream = EncryptingStream(source, len(plaintext), GcmMessage(cipher_for(), len(plaintext)))
    stream.read()
    source.getbuffer()[3] ^= 1
    stream.seek(0)
    for _ in range(2):  # the failed window is not served from what the buffer held before
        with pytest.raises(EncryptionError, match="changed while it was being uploaded"):
            stream.read(10)
