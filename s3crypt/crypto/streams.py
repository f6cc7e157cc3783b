"""Streaming AES-GCM: an encrypting stream botocore can size, checksum and rewind, and authenticated readers.

Neither class ever holds a whole body: the encrypting stream reads the plaintext as it is read, and the
authenticated reader spools *ciphertext* (in memory up to a limit, then in an anonymous temporary file),
verifies the GCM tag, and only then decrypts with AES-CTR from the first content block, which is exactly
the keystream GCM used.
"""

from __future__ import annotations

import io
import tempfile
from typing import IO, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

from s3crypt.crypto.content import ContentCipher
from s3crypt.crypto.suites import GCM_MAX_PLAINTEXT, GCM_TAG_LENGTH
from s3crypt.errors import DecryptionError, EncryptionError

CHUNK_SIZE = 1024 * 1024
DEFAULT_SPOOL_MEMORY = 32 * 1024 * 1024
_BLOCK = 16


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def gcm_encryptor(cipher: ContentCipher) -> CipherContext:
    ctx = Cipher(algorithms.AES(cipher.key), modes.GCM(cipher.nonce)).encryptor()
    ctx.authenticate_additional_data(cipher.aad)
    return ctx


def ctr_decryptor(cipher: ContentCipher, first_block: int = 0) -> CipherContext:
    """AES-CTR positioned on content block ``first_block`` of a GCM message (12-byte nonce)."""
    counter = cipher.nonce + (first_block + 2).to_bytes(4, "big")
    return Cipher(algorithms.AES(cipher.key), modes.CTR(counter)).decryptor()


def check_plaintext_length(length: int) -> None:
    if length > GCM_MAX_PLAINTEXT:
        raise EncryptionError(
            f"the body is {length} bytes; AES-GCM can encrypt at most {GCM_MAX_PLAINTEXT} bytes "
            "(64 GiB - 32) in one object: split the data into several objects"
        )


class EncryptingStream(io.RawIOBase):
    """Reads ``length`` bytes of plaintext from ``source`` and yields ciphertext followed by the 16-byte tag.

    ``seek`` to any position re-derives the same cipher, so a retried request sends identical bytes.
    """

    def __init__(self, source: IO[bytes], length: int, cipher: ContentCipher) -> None:
        check_plaintext_length(length)
        self._source = source
        self._start = source.tell() if _seekable(source) else None
        self._length = length
        self._cipher = cipher
        self._target = 0
        self._restart()

    def _restart(self) -> None:
        if self._start is not None:
            self._source.seek(self._start)
        self._encryptor = gcm_encryptor(self._cipher)
        self._consumed = 0
        self._tag = b""
        self._position = 0

    def __len__(self) -> int:
        return self._length + GCM_TAG_LENGTH

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._start is not None

    def tell(self) -> int:
        return self._target

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._target, io.SEEK_END: len(self)}[whence]
        target = base + offset
        if target < 0:
            raise ValueError("negative seek position")
        if target < self._position and self._start is None:
            raise io.UnsupportedOperation("the plaintext source cannot be rewound")
        self._target = target
        return target

    def read(self, size: int | None = -1) -> bytes:
        if self._target < self._position:
            self._restart()
        while self._position < self._target:
            if not self._next(self._target - self._position):
                break
        remaining = len(self) - self._position
        size = remaining if size is None or size < 0 else min(size, remaining)
        parts = []
        while size > 0:
            data = self._next(size)
            if not data:
                break
            parts.append(data)
            size -= len(data)
        self._target = self._position
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _next(self, size: int) -> bytes:
        """Up to ``size`` more bytes of ciphertext or tag."""
        if self._consumed < self._length:
            data = self._source.read(min(size, self._length - self._consumed, CHUNK_SIZE))
            if not data:
                raise EncryptionError(
                    f"the body ended after {self._consumed} of the {self._length} bytes it was said to hold"
                )
            self._consumed += len(data)
            out = self._encryptor.update(data)
        else:
            if not self._tag:
                self._encryptor.finalize()
                self._tag = self._encryptor.tag  # type: ignore[attr-defined]
            offset = self._position - self._length
            out = self._tag[offset : offset + size]
        self._position += len(out)
        return out


def _seekable(source: IO[bytes]) -> bool:
    try:
        return bool(source.seekable()) and (source.tell() >= 0)
    except (AttributeError, OSError, ValueError):
        return False


class AuthenticatedReader(io.RawIOBase):
    """Plaintext of a GCM message (content || tag) read from ``source``, released only once the tag verifies.

    The first read consumes the whole ciphertext: it is spooled (``spool_memory`` bytes in memory, the rest in
    an anonymous temporary file) while GCM checks the tag; the plaintext then comes from AES-CTR over the spool.
    """

    def __init__(
        self,
        source: Readable,
        ciphertext_length: int,
        cipher: ContentCipher,
        spool_memory: int = DEFAULT_SPOOL_MEMORY,
    ) -> None:
        if ciphertext_length < GCM_TAG_LENGTH:
            raise DecryptionError(
                f"the object holds {ciphertext_length} bytes, fewer than the 16-byte GCM tag: it was truncated"
            )
        self._source = source
        self._content_length = ciphertext_length - GCM_TAG_LENGTH
        self._cipher = cipher
        self._spool_memory = spool_memory
        self._spool: IO[bytes] | None = None
        self._decryptor: CipherContext | None = None

    def readable(self) -> bool:
        return True

    def _authenticate(self) -> None:
        spool = tempfile.SpooledTemporaryFile(max_size=self._spool_memory)  # noqa: SIM115 - closed in close()
        try:
            decryptor = Cipher(algorithms.AES(self._cipher.key), modes.GCM(self._cipher.nonce)).decryptor()
            decryptor.authenticate_additional_data(self._cipher.aad)
            scratch = memoryview(bytearray(CHUNK_SIZE + _BLOCK))
            remaining = self._content_length
            while remaining:
                chunk = self._source.read(min(CHUNK_SIZE, remaining))
                if not chunk:
                    raise DecryptionError(
                        f"the object's body ended {remaining + GCM_TAG_LENGTH} bytes early: it was truncated"
                    )
                spool.write(chunk)
                decryptor.update_into(chunk, scratch)
                remaining -= len(chunk)
            tag = _read_exactly(self._source, GCM_TAG_LENGTH)
            try:
                decryptor.finalize_with_tag(tag)
            except InvalidTag:
                raise DecryptionError(
                    "the object failed authentication (GCM tag mismatch): its body or crypto metadata was "
                    "altered, or it was encrypted under another key; no plaintext was released"
                ) from None
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        self._spool = spool
        self._decryptor = ctr_decryptor(self._cipher)

    def read(self, size: int | None = -1) -> bytes:
        if self.closed:
            raise ValueError("read of a closed body")
        if self._spool is None:
            self._authenticate()
        assert self._spool is not None
        assert self._decryptor is not None
        data = self._spool.read(-1 if size is None else size)
        return self._decryptor.update(data)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
        close = getattr(self._source, "close", None)
        if close is not None:
            close()
        super().close()


def _read_exactly(source: Readable, size: int) -> bytes:
    parts = []
    while size:
        data = source.read(size)
        if not data:
            raise DecryptionError("the object's body ended inside its GCM tag: it was truncated")
        parts.append(data)
        size -= len(data)
    return b"".join(parts)
