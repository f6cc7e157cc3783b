"""The push-style decryptions alone: ciphertext pushed in pieces of any size, what each releases and when."""

from __future__ import annotations

import itertools
import os

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from s3crypt import AlgorithmSuite, DecryptionError
from s3crypt._crypto.content import content_cipher
from s3crypt._crypto.decryption import CbcDecryption, DelayedDecryption, RangeDecryption, Releases
from tests.crypto.test_streams import cipher_for, reference

CBC = AlgorithmSuite.ALG_AES_256_CBC_IV16_NO_KDF


def pieces_of(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(cut, len(data)) for cut in cuts} | {0, len(data)})
    return [data[start:end] for start, end in itertools.pairwise(points)]


@settings(max_examples=60, deadline=None)
@given(plaintext=st.binary(max_size=3000), cuts=st.lists(st.integers(min_value=0, max_value=3100), max_size=12))
def test_delayed_releases_the_plaintext_in_any_pieces_and_the_last_only_with_a_verified_tag(
    plaintext: bytes, cuts: list[int]
) -> None:
    ciphertext = reference(plaintext)
    decryption = DelayedDecryption(len(ciphertext), cipher_for())
    released = b""
    for piece in pieces_of(ciphertext, cuts):
        assert decryption.wanted >= len(piece)
        released += decryption.update(piece)
        if decryption.wanted:  # nothing of the content's end goes out before the whole tag is in
            assert len(released) < len(plaintext) or not plaintext
    assert decryption.wanted == 0
    assert released == plaintext


def test_delayed_holds_the_contents_end_until_the_tag_verifies_and_then_refuses_a_forgery() -> None:
    plaintext = os.urandom(1000)
    forged = bytearray(reference(plaintext))
    forged[-1] ^= 1
    decryption = DelayedDecryption(len(forged), cipher_for())
    assert decryption.update(bytes(forged[:600])) == plaintext[:600]
    assert decryption.update(bytes(forged[600:1000])) == b""  # held: the tag has not arrived
    assert decryption.update(bytes(forged[1000:1010])) == b""
    with pytest.raises(DecryptionError, match="tag mismatch"):
        decryption.update(bytes(forged[1010:]))


def test_truncations_say_how_much_is_missing() -> None:
    ciphertext = reference(os.urandom(100))
    in_content = DelayedDecryption(len(ciphertext), cipher_for())
    in_content.update(ciphertext[:50])
    assert "ended 66 bytes early" in str(in_content.truncated())
    in_tag = DelayedDecryption(len(ciphertext), cipher_for())
    in_tag.update(ciphertext[:105])
    assert "inside its GCM tag" in str(in_tag.truncated())
    with pytest.raises(DecryptionError, match="fewer than the 16-byte GCM tag"):
        DelayedDecryption(15, cipher_for())


@settings(max_examples=40, deadline=None)
@given(
    start=st.integers(min_value=0, max_value=2000),
    length=st.integers(min_value=0, max_value=1000),
    cuts=st.lists(st.integers(min_value=0, max_value=3000), max_size=8),
)
def test_a_range_skips_to_its_start_and_stops_at_its_end(start: int, length: int, cuts: list[int]) -> None:
    plaintext = os.urandom(3000)
    ciphertext = reference(plaintext)
    served_from = start - start % 16  # S3 answers from a block boundary before the range
    decryption = RangeDecryption(cipher_for(), served_from, start, length)
    released = b"".join(decryption.update(piece) for piece in pieces_of(ciphertext[served_from:], cuts))
    assert released == plaintext[start : start + length]
    assert decryption.wanted == 0


def test_cbc_releases_the_unpadded_plaintext_and_refuses_bad_padding() -> None:
    cipher = content_cipher(CBC, bytes(range(32)), bytes(16))
    plaintext = os.urandom(100)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(cipher.key), modes.CBC(cipher.nonce)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()

    decryption = CbcDecryption(len(ciphertext), cipher)
    released = b"".join(decryption.update(ciphertext[at : at + 7]) for at in range(0, len(ciphertext), 7))
    assert released == plaintext
    garbled = CbcDecryption(len(ciphertext), cipher)
    garbled.update(ciphertext[:-16])
    with pytest.raises(DecryptionError, match="padding is invalid"):
        garbled.update(bytes(16))
    with pytest.raises(DecryptionError, match="whole 16-byte blocks"):
        CbcDecryption(17, cipher)


def test_releases_hand_out_at_most_the_size_asked_and_raise_a_truncation() -> None:
    plaintext = os.urandom(500)
    ciphertext = reference(plaintext)
    releases = Releases(DelayedDecryption(len(ciphertext), cipher_for()))
    out, at = b"", 0
    while True:  # as a reader does: read what is wanted, then take
        while wanted := releases.wants(100):
            releases.push(ciphertext[at : at + wanted])
            at += wanted
        if not (chunk := releases.take(100)):
            break
        assert len(chunk) <= 100
        out += chunk
    assert out == plaintext
    assert releases.wants(0) == 0

    cut = Releases(DelayedDecryption(len(ciphertext), cipher_for()))
    with pytest.raises(DecryptionError, match="truncated"):
        cut.push(b"")
