"""Verified objects without S3: nothing is readable before the tag verifies, any range reads back across the
memory bound, and one fetch serves concurrent opens."""

from __future__ import annotations

import asyncio
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from s3crypt._crypto.content import ContentCipher, content_cipher, new_iv
from s3crypt._crypto.suites import AlgorithmSuite
from s3crypt._errors import DecryptionError
from s3crypt.fsspec.verified import DecryptedCopy, VerifiedObject, VerifiedObjects

SUITE = AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY


def sealed(plaintext: bytes) -> tuple[ContentCipher, bytes]:
    cipher = content_cipher(SUITE, os.urandom(32), new_iv(SUITE))
    return cipher, AESGCM(cipher.key).encrypt(cipher.nonce, plaintext, cipher.aad)


def fed(cipher: ContentCipher, ciphertext: bytes, memory_limit: int, step: int) -> VerifiedObject:
    verified = VerifiedObject(cipher, len(ciphertext), memory_limit)
    for start in range(0, len(ciphertext), step):
        verified.feed(ciphertext[start : start + step])
    return verified


@pytest.mark.parametrize("memory_limit", [0, 1000, 10**6])
@pytest.mark.parametrize("step", [1, 7, 4096])
def test_any_range_reads_back(memory_limit: int, step: int) -> None:
    plaintext = os.urandom(5000)
    verified = fed(*sealed(plaintext), memory_limit, step)
    verified.finish()
    for start, end in [(0, 5000), (990, 1010), (1000, 1001), (4999, 6000), (17, 17), (3000, 2000)]:
        assert verified.read(start, end) == plaintext[start:end]


def test_nothing_is_readable_before_the_tag_verifies() -> None:
    cipher, ciphertext = sealed(b"secret" * 100)
    verified = fed(cipher, ciphertext, 100, 64)
    with pytest.raises(DecryptionError, match="not been authenticated"):
        verified.read(0, 10)


def test_a_tampered_or_truncated_object_fails() -> None:
    cipher, ciphertext = sealed(b"secret" * 100)
    tampered = bytearray(ciphertext)
    tampered[10] ^= 1
    with pytest.raises(DecryptionError, match="authentication"):
        fed(cipher, bytes(tampered), 100, 64).finish()
    truncated = VerifiedObject(cipher, len(ciphertext), 100)
    truncated.feed(ciphertext[:-1])
    with pytest.raises(DecryptionError, match="truncated"):
        truncated.finish()
    with pytest.raises(DecryptionError, match="more bytes"):
        VerifiedObject(cipher, len(ciphertext) - 1, 100).feed(ciphertext)


async def test_concurrent_requests_make_one_fetch_and_old_objects_go() -> None:
    objects = VerifiedObjects(capacity=150)
    fetches: list[str] = []

    def fetcher(name: str, size: int) -> object:
        async def fetch() -> VerifiedObject:
            fetches.append(name)
            await asyncio.sleep(0.01)
            cipher, ciphertext = sealed(os.urandom(size))
            verified = fed(cipher, ciphertext, 1000, 1000)
            verified.finish()
            return verified

        return fetch

    first = await asyncio.gather(*(objects.get("a", fetcher("a", 100)) for _ in range(5)))  # type: ignore[arg-type]
    assert fetches == ["a"]
    assert all(found is first[0] for found in first)
    await objects.get("b", fetcher("b", 100))  # type: ignore[arg-type]
    await objects.get("a", fetcher("a", 100))  # type: ignore[arg-type]
    assert fetches == ["a", "b", "a"]  # a and b did not fit together: a went first


async def test_a_failed_fetch_is_not_kept() -> None:
    objects = VerifiedObjects(capacity=10**6)

    async def failing() -> VerifiedObject:
        raise DecryptionError("tampered")

    with pytest.raises(DecryptionError):
        await objects.get("a", failing)
    with pytest.raises(DecryptionError):
        await objects.get("a", failing)


def test_a_decrypted_copy_spools_no_plaintext() -> None:
    plaintext = os.urandom(5000)
    copy = DecryptedCopy(len(plaintext), 1000)
    for start in range(0, len(plaintext), 777):
        copy.feed(plaintext[start : start + 777])
    copy.finish()
    assert copy.read(0, 5000) == plaintext
    assert copy.read(990, 3000) == plaintext[990:3000]
    assert copy._spool is not None
    copy._spool.seek(0)
    assert plaintext[1000:1100] not in copy._spool.read()


def test_a_decrypted_copy_must_hold_its_recorded_size() -> None:
    short = DecryptedCopy(10, 1000)
    short.feed(b"123")
    with pytest.raises(DecryptionError, match="less plaintext"):
        short.finish()
    with pytest.raises(DecryptionError, match="more plaintext"):
        DecryptedCopy(2, 1000).feed(b"123")
