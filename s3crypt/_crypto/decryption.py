"""Decryption of a body pushed in as its ciphertext arrives, without I/O.

Each decryption is told the ciphertext as it comes, in pieces of any size, and answers with the plaintext it may
release; :attr:`Decryption.wanted` says how many bytes it still expects. The sync readers
(:mod:`s3crypt._crypto.streams`) pull ciphertext from a stream into one, and the asyncio body awaits it from the
network and pushes it in, so both make the same checks in the same order.
"""

from __future__ import annotations

from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

from s3crypt._crypto.content import ContentCipher
from s3crypt._crypto.suites import GCM_TAG_LENGTH
from s3crypt._errors import DecryptionError

BLOCK = 16
DELAYED_RELEASED = "discard the plaintext already read (delayed authentication released it unverified)"


class Decryption(Protocol):
    @property
    def wanted(self) -> int:
        """How many more bytes of ciphertext the decryption expects; 0 once it has released all it will."""

    def update(self, ciphertext: bytes | memoryview) -> bytes:
        """The plaintext that may be released after ``ciphertext`` (at most :attr:`wanted` bytes); it may be
        empty before the end (a tag or a padding block is held back)."""

    def truncated(self) -> DecryptionError:
        """The error of a body that ended while :attr:`wanted` bytes were still expected."""


def gcm_decryptor(cipher: ContentCipher) -> CipherContext:
    ctx = Cipher(algorithms.AES(cipher.key), modes.GCM(cipher.nonce)).decryptor()
    ctx.authenticate_additional_data(cipher.aad)
    return ctx


def check_tag(decryptor: CipherContext, tag: bytes, released: str) -> None:
    """Check the 16-byte GCM ``tag`` that follows the content; ``released`` says what the caller got."""
    try:
        decryptor.finalize_with_tag(tag)  # type: ignore[attr-defined]
    except InvalidTag:
        raise DecryptionError(
            "the object failed authentication (GCM tag mismatch): its body or crypto metadata was "
            f"altered, or it was encrypted under another key; {released}"
        ) from None


def ctr_at(cipher: ContentCipher, offset: int) -> CipherContext:
    """AES-CTR positioned on byte ``offset`` of a GCM message's content: the keystream GCM used there.

    For a 12-byte nonce GCM encrypts content block ``i`` with counter ``nonce || i + 2``.
    """
    counter = cipher.nonce + (offset // BLOCK + 2).to_bytes(4, "big")
    decryptor = Cipher(algorithms.AES(cipher.key), modes.CTR(counter)).decryptor()
    decryptor.update(bytes(offset % BLOCK))
    return decryptor


def content_length(ciphertext_length: int) -> int:
    """The length of a GCM message's content, the tag taken off."""
    if ciphertext_length < GCM_TAG_LENGTH:
        raise DecryptionError(
            f"the object holds {ciphertext_length} bytes, fewer than the 16-byte GCM tag: it was truncated"
        )
    return ciphertext_length - GCM_TAG_LENGTH


def truncated(missing: int) -> DecryptionError:
    """The error of a body that ended ``missing`` bytes (tag included) before its end."""
    return DecryptionError(f"the object's body ended {missing} bytes early: it was truncated")


class DelayedDecryption:
    """A GCM message (content || tag) decrypted as it arrives (delayed authentication, opt-in).

    The tag is checked as soon as it has arrived, and the plaintext of the content's last piece is held back
    until then: a failure raises :class:`DecryptionError` where the body would have ended.
    """

    def __init__(self, ciphertext_length: int, cipher: ContentCipher, released: str = DELAYED_RELEASED) -> None:
        self._content_left = content_length(ciphertext_length)
        self._tag = b""
        self._held = b""
        self._decryptor = gcm_decryptor(cipher)
        self._released = released

    @property
    def wanted(self) -> int:
        return self._content_left + GCM_TAG_LENGTH - len(self._tag)

    def update(self, ciphertext: bytes | memoryview) -> bytes:
        content = ciphertext[: self._content_left]
        plaintext = self._decryptor.update(content) if content else b""
        self._content_left -= len(content)
        self._tag += ciphertext[len(content) :]
        if self._content_left:
            return plaintext
        if len(self._tag) < GCM_TAG_LENGTH:
            self._held += plaintext
            return b""
        check_tag(self._decryptor, self._tag, self._released)
        released, self._held = self._held + plaintext, b""
        return released

    def truncated(self) -> DecryptionError:
        if not self._content_left:
            return DecryptionError("the object's body ended inside its GCM tag: it was truncated")
        return truncated(self.wanted)


class RangeDecryption:
    """Plaintext bytes ``[start, start + length)`` of a GCM message, decrypted with AES-CTR: unauthenticated.

    The ciphertext pushed in starts at offset ``source_offset`` (at most ``start``) of the content.
    """

    def __init__(self, cipher: ContentCipher, source_offset: int, start: int, length: int) -> None:
        self._skip = start - source_offset
        self._left = length
        self._decryptor = ctr_at(cipher, start)

    @property
    def wanted(self) -> int:
        return self._skip + self._left

    def update(self, ciphertext: bytes | memoryview) -> bytes:
        skipped = min(self._skip, len(ciphertext))
        self._skip -= skipped
        wanted = ciphertext[skipped : skipped + self._left]
        self._left -= len(wanted)
        return self._decryptor.update(wanted) if wanted else b""

    def truncated(self) -> DecryptionError:
        return DecryptionError("the ranged response ended before the requested range")


class CbcDecryption:
    """Plaintext of a legacy AES-CBC object (PKCS#7 padding): unauthenticated, read only when opted into."""

    def __init__(self, ciphertext_length: int, cipher: ContentCipher) -> None:
        if ciphertext_length % BLOCK or not ciphertext_length:
            raise DecryptionError(f"a CBC object holds whole 16-byte blocks, not {ciphertext_length} bytes")
        self._left = ciphertext_length
        self._decryptor = Cipher(algorithms.AES(cipher.key), modes.CBC(cipher.nonce)).decryptor()
        self._unpadder = padding.PKCS7(128).unpadder()

    @property
    def wanted(self) -> int:
        return self._left

    def update(self, ciphertext: bytes | memoryview) -> bytes:
        self._left -= len(ciphertext)
        plaintext = self._unpadder.update(self._decryptor.update(ciphertext))
        if self._left:
            return plaintext
        try:
            return plaintext + self._unpadder.update(self._decryptor.finalize()) + self._unpadder.finalize()
        except ValueError:
            raise DecryptionError("the CBC object's padding is invalid: wrong key, or altered") from None

    def truncated(self) -> DecryptionError:
        return truncated(self._left)


def streaming_decryption(ciphertext_length: int, cipher: ContentCipher, *, delayed: bool) -> Decryption | None:
    """How a whole object's content is decrypted as it arrives: legacy CBC, or GCM with delayed authentication;
    ``None`` when the tag must verify before any plaintext is released (the default)."""
    if cipher.suite.is_legacy:
        return CbcDecryption(ciphertext_length, cipher)
    if delayed:
        return DelayedDecryption(ciphertext_length, cipher)
    return None


class Releases:
    """The plaintext a decryption releases, handed out in reads of any size.

    A reader asks :meth:`wants` how much ciphertext to read next and gives what it read to :meth:`push`; once
    nothing is wanted, :meth:`take` hands out the plaintext. The sync readers and the asyncio body both do so.
    """

    def __init__(self, decryption: Decryption) -> None:
        self._decryption = decryption
        self._surplus = b""

    def wants(self, size: int) -> int:
        """How many bytes of ciphertext to read (at most) before a read of ``size`` bytes; 0: take now."""
        if self._surplus or not size:
            return 0
        return min(max(size, BLOCK), self._decryption.wanted)

    def push(self, ciphertext: bytes | memoryview) -> None:
        """The ciphertext read; empty if the body ended."""
        if not ciphertext:
            raise self._decryption.truncated()
        self._surplus = self._decryption.update(ciphertext)

    def take(self, size: int) -> bytes:
        """At most ``size`` bytes of plaintext; ``b""`` only at the end."""
        data, self._surplus = self._surplus[:size], self._surplus[size:]
        return data
