"""Streaming AES-GCM: an encrypting stream botocore can size, checksum and rewind, and authenticated readers.

Neither class ever holds a whole body: the encrypting stream reads the plaintext as it is read, and the
authenticated reader spools *ciphertext* (in memory up to a limit, then in an anonymous temporary file),
verifies the GCM tag, and only then decrypts with AES-CTR from the first content block, which is exactly
the keystream GCM used.
"""

from __future__ import annotations

import io
import tempfile
import threading
from collections.abc import Iterator
from typing import IO, Protocol

from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

from s3crypt._crypto.content import ContentCipher
from s3crypt._crypto.decryption import (
    DELAYED_RELEASED,
    Decryption,
    DelayedDecryption,
    RangeDecryption,
    Releases,
    check_tag,
    content_length,
    ctr_at,
    gcm_decryptor,
    streaming_decryption,
    truncated,
)
from s3crypt._crypto.rereads import PIECE, FirstPass
from s3crypt._crypto.suites import GCM_MAX_PLAINTEXT, GCM_TAG_LENGTH
from s3crypt._errors import DecryptionError, EncryptionError

CHUNK_SIZE = 1024 * 1024
DEFAULT_MEMORY_LIMIT = 32 * 1024 * 1024
# What an encrypting stream reads and encrypts at a time: whole pieces of the re-read check, as many as botocore's
# checksum, payload-hash and aws-chunked passes read at once (1 MiB), so each of their reads is a single copy.
WINDOW = 4 * PIECE
_BLOCK = 16
_NOTHING_RELEASED = "no plaintext was released"


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def gcm_encryptor(cipher: ContentCipher) -> CipherContext:
    ctx = Cipher(algorithms.AES(cipher.key), modes.GCM(cipher.nonce)).encryptor()
    ctx.authenticate_additional_data(cipher.aad)
    return ctx


def check_plaintext_length(length: int) -> None:
    if length > GCM_MAX_PLAINTEXT:
        raise EncryptionError(
            f"the body is {length} bytes; AES-GCM can encrypt at most {GCM_MAX_PLAINTEXT} bytes "
            "(64 GiB - 32) in one object: split the data into several objects"
        )


class GcmMessage:
    """One AES-GCM encryption of a message that may be read in parts, by several threads, and read again.

    Plaintext presented at the offset GCM has reached advances GCM; plaintext at any other offset (a re-read
    after a retry, or a part read ahead of the ones before it) is encrypted with AES-CTR at that offset, which
    gives the very same ciphertext. Every byte must reach GCM once, in order, before :meth:`tag` is asked for.
    """

    def __init__(self, cipher: ContentCipher, length: int | None = None) -> None:
        if length is not None:
            check_plaintext_length(length)
        self.length = length
        self._cipher = cipher
        self._encryptor = gcm_encryptor(cipher)
        self._fed = 0
        self._tag: bytes | None = None
        self._lock = threading.Lock()
        self._first_pass = FirstPass()
        self._scratch: memoryview | None = None

    @property
    def fed(self) -> int:
        """How many plaintext bytes GCM has consumed."""
        return self._fed

    def encrypt(self, offset: int, data: bytes) -> bytes:
        """The ciphertext of ``data``, the plaintext at ``offset``, once it matches any earlier read of it.

        ``data`` must start and end on a piece boundary (:mod:`s3crypt._crypto.rereads`) or a stream's edge.
        """
        out = memoryview(bytearray(len(data) + _BLOCK))
        self.encrypt_into(offset, data, out)
        return bytes(out[: len(data)])

    def encrypt_into(self, offset: int, data: bytes, out: memoryview, keystream: Keystream | None = None) -> None:
        """:meth:`encrypt` writing into ``out`` (at least ``len(data) + 16`` bytes) instead of allocating.

        ``keystream`` serves the bytes GCM has already passed; one kept by a stream reading on continues
        where its last call ended instead of starting a new AES-CTR context.
        """
        split = self._advance(offset, data, out)
        if split:
            (keystream or self.keystream()).encrypt_into(offset, memoryview(data)[:split], out)

    def keystream(self) -> Keystream:
        """A keystream for one reader of this message (see :meth:`encrypt_into`)."""
        return Keystream(self._cipher)

    def feed(self, offset: int, data: bytes) -> None:
        """Check ``data`` like :meth:`encrypt` and give GCM whatever of it GCM has not seen, without ciphertext."""
        self._advance(offset, data, None)

    def _advance(self, offset: int, data: bytes, out: memoryview | None) -> int:
        """Check ``data``, feed GCM the part of it from where GCM stands, writing that ciphertext into ``out`` (or
        discarding it); how many leading bytes of ``data`` GCM had already passed."""
        sums = self._first_pass.sums(offset, data)
        with self._lock:
            self._first_pass.check(sums)
            if self._tag is not None or not offset <= self._fed < offset + len(data):
                return len(data)
            split = self._fed - offset
            check_plaintext_length(offset + len(data))
            view = memoryview(data)
            if out is not None:
                self._encryptor.update_into(view[split:], out[split:])
            else:
                scratch = self._scratch_buffer()
                for start in range(split, len(data), CHUNK_SIZE):
                    self._encryptor.update_into(view[start : start + CHUNK_SIZE], scratch)
            self._fed = offset + len(data)
            return split

    def _scratch_buffer(self) -> memoryview:
        if self._scratch is None:
            self._scratch = memoryview(bytearray(CHUNK_SIZE + _BLOCK))
        return self._scratch

    def tag(self) -> bytes:
        """The 16-byte tag; the message is complete once it is asked for."""
        with self._lock:
            if self._tag is None:
                if self.length is not None and self._fed != self.length:
                    raise EncryptionError(
                        f"the message's tag was asked for after {self._fed} of its {self.length} bytes"
                    )
                self._encryptor.finalize()
                self._tag = self._encryptor.tag  # type: ignore[attr-defined]
            return self._tag


class Keystream:
    """AES-CTR over a GCM message's content for one reader: consecutive calls reuse one context."""

    def __init__(self, cipher: ContentCipher) -> None:
        self._cipher = cipher
        self._context: CipherContext | None = None
        self._at = -1

    def encrypt_into(self, offset: int, data: memoryview, out: memoryview) -> None:
        """Encrypt ``data``, the plaintext at ``offset``, into ``out`` (at least ``len(data) + 15`` bytes)."""
        if self._context is None or offset != self._at:
            self._context = ctr_at(self._cipher, offset)
        self._context.update_into(data, out)
        self._at = offset + len(data)


class EncryptingStream(io.RawIOBase):
    """Ciphertext of ``length`` bytes of plaintext read from ``source``, which start at ``offset`` of ``message``.

    With ``last`` the 16-byte tag follows. The stream can be sized, and re-read from any position whenever its
    source can seek, giving identical bytes, so botocore can checksum, sign and retry it. The source is read in
    windows of whole pieces, each checked against its first read before its ciphertext is given out; the window's
    ciphertext is kept in one buffer, so reads of any size within it encrypt nothing again.
    """

    def __init__(
        self, source: IO[bytes], length: int, message: GcmMessage, offset: int = 0, *, last: bool = True
    ) -> None:
        self._source = source
        self._start = source.tell() if _seekable(source) else None
        self._length = length
        self._total = length + (GCM_TAG_LENGTH if last else 0)
        self._message = message
        self._offset = offset
        self._position = 0
        self._source_at = 0
        self._keystream = message.keystream()
        self._window: memoryview | None = None  # WINDOW (+ 16) bytes, allocated at the first read
        self._window_at = 0
        self._window_length = 0

    def __len__(self) -> int:
        return self._total

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._start is not None

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._total}[whence]
        target = base + offset
        if target < 0:
            raise ValueError("negative seek position")
        if target != self._position and self._start is None:
            raise io.UnsupportedOperation("the plaintext source cannot seek")
        self._position = target
        return target

    def read(self, size: int | None = -1) -> bytes:
        start = self._position - self._window_at
        if self._window is not None and size is not None and size > 0 and 0 <= start <= self._window_length - size:
            self._position += size  # botocore's send reads 16 KiB at a time: most reads end here
            return bytes(self._window[start : start + size])
        remaining = max(0, self._total - self._position)
        size = remaining if size is None or size < 0 else min(size, remaining)
        parts = []
        while size > 0:
            data = self._next(size)
            parts.append(data)
            size -= len(data)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _next(self, size: int) -> bytes:
        """Up to ``size`` more bytes of ciphertext or tag."""
        position = self._position
        if position < self._length:
            start = position - self._window_at
            if not 0 <= start < self._window_length:
                self._load(position)
                start = position - self._window_at
            assert self._window is not None
            out = bytes(self._window[start : min(start + size, self._window_length)])
        else:
            self._catch_up()
            tag_offset = position - self._length
            out = self._message.tag()[tag_offset : tag_offset + size]
        self._position = position + len(out)
        return out

    def _load(self, position: int) -> None:
        """Read, check and encrypt the window of plaintext around ``position`` (a window's start if unseekable)."""
        at = self._offset + position
        start = max(0, at - at % WINDOW - self._offset)
        stop = min(self._offset + self._length, (at // WINDOW + 1) * WINDOW) - self._offset
        if self._source_at != start:
            assert self._start is not None
            self._source.seek(self._start + start)
        data = _read_up_to(self._source, stop - start)
        self._source_at = start + len(data)
        if len(data) < stop - start:
            raise EncryptionError(
                f"the body ended after {self._source_at} of the {self._length} bytes it was said to hold"
            )
        if self._window is None:
            self._window = memoryview(bytearray(min(WINDOW, self._length) + _BLOCK))
        self._window_length = 0  # nothing valid while the buffer is overwritten, should the check fail
        self._message.encrypt_into(self._offset + start, data, self._window, self._keystream)
        self._window_at, self._window_length = start, len(data)

    def _catch_up(self) -> None:
        """Feed GCM the rest of this stream's plaintext, when the tag is read before all of it was."""
        end = self._offset + self._length
        while self._start is not None and self._offset <= self._message.fed < end:
            self._load(self._message.fed - self._offset)


def _seekable(source: IO[bytes]) -> bool:
    try:
        return bool(source.seekable()) and (source.tell() >= 0)
    except (AttributeError, OSError, ValueError):
        return False


class _PlaintextReader(io.RawIOBase):
    """A readable stream of plaintext decrypted from ``_source``, which it closes with itself."""

    _source: Readable

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        _close(self._source)
        super().close()


class AuthenticatedReader(_PlaintextReader):
    """Plaintext of a GCM message (content || tag) read from ``source``, released only once the tag verifies.

    The first read consumes the whole ciphertext while GCM checks the tag. The first ``memory_limit`` bytes
    are decrypted into memory on the way; ciphertext past them is spooled to an anonymous temporary file
    (ciphertext only, never plaintext) and decrypted with AES-CTR from there once the tag has verified.
    """

    def __init__(
        self,
        source: Readable,
        ciphertext_length: int,
        cipher: ContentCipher,
        memory_limit: int = DEFAULT_MEMORY_LIMIT,
    ) -> None:
        self._source = source
        self._content_length = content_length(ciphertext_length)
        self._cipher = cipher
        self._in_memory = min(self._content_length, memory_limit - memory_limit % _BLOCK)
        self._plaintext: memoryview | None = None
        self._overflow: IO[bytes] | None = None
        self._overflow_decryptor: CipherContext | None = None
        self._position = 0

    def _authenticate(self) -> None:
        decryptor = gcm_decryptor(self._cipher)
        plaintext = memoryview(bytearray(self._in_memory + _BLOCK))
        filled = 0
        for chunk in _chunks(self._source, self._in_memory, self._content_length):
            filled += decryptor.update_into(chunk, plaintext[filled:])
        overflow_length = self._content_length - self._in_memory
        if overflow_length:
            overflow = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
            try:
                scratch = memoryview(bytearray(CHUNK_SIZE + _BLOCK))
                for chunk in _chunks(self._source, overflow_length, overflow_length):
                    overflow.write(chunk)
                    decryptor.update_into(chunk, scratch)
                check_tag(decryptor, _read_exactly(self._source, GCM_TAG_LENGTH), _NOTHING_RELEASED)
                overflow.seek(0)
            except BaseException:
                overflow.close()
                raise
            self._overflow = overflow
            self._overflow_decryptor = ctr_at(self._cipher, self._in_memory)
        else:
            check_tag(decryptor, _read_exactly(self._source, GCM_TAG_LENGTH), _NOTHING_RELEASED)
        self._plaintext = plaintext[: self._in_memory]

    def read(self, size: int | None = -1) -> bytes:
        if self.closed:
            raise ValueError("read of a closed body")
        if self._plaintext is None:
            self._authenticate()
        remaining = self._content_length - self._position
        size = remaining if size is None or size < 0 else min(size, remaining)
        parts = []
        while size:
            part = self._next(size)
            parts.append(part)
            size -= len(part)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _next(self, size: int) -> bytes:
        assert self._plaintext is not None
        if self._position < self._in_memory:
            end = min(self._position + size, self._in_memory)
            data = bytes(self._plaintext[self._position : end])
        else:
            assert self._overflow is not None
            assert self._overflow_decryptor is not None
            data = self._overflow_decryptor.update(self._overflow.read(size))
            if not data:
                raise DecryptionError("the spooled ciphertext ended early: the temporary file was altered")
        self._position += len(data)
        return data

    def close(self) -> None:
        self._plaintext = None
        if self._overflow is not None:
            self._overflow.close()
        super().close()


def _chunks(source: Readable, length: int, remaining_in_body: int) -> Iterator[bytes]:
    """``length`` bytes of ``source`` in chunks; ``remaining_in_body`` sizes the error if the body ends early."""
    while length:
        chunk = source.read(min(CHUNK_SIZE, length))
        if not chunk:
            raise truncated(remaining_in_body + GCM_TAG_LENGTH)
        yield chunk
        length -= len(chunk)
        remaining_in_body -= len(chunk)


class DecryptingReader(_PlaintextReader):
    """The plaintext of ``decryption`` (:mod:`s3crypt._crypto.decryption`), its ciphertext read from ``source``.

    A read returns at most ``size`` bytes (the rest of the body without it), and ``b""`` only at the end.
    """

    def __init__(self, source: Readable, decryption: Decryption) -> None:
        self._source = source
        self._releases = Releases(decryption)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(CHUNK_SIZE), b""))
        while wanted := self._releases.wants(size):
            self._releases.push(self._source.read(wanted))
        return self._releases.take(size)


class DelayedAuthReader(DecryptingReader):
    """Plaintext decrypted as the ciphertext arrives (delayed authentication, opt-in); see
    :class:`~s3crypt._crypto.decryption.DelayedDecryption`."""

    def __init__(
        self, source: Readable, ciphertext_length: int, cipher: ContentCipher, released: str = DELAYED_RELEASED
    ) -> None:
        super().__init__(source, DelayedDecryption(ciphertext_length, cipher, released))


class RangeReader(DecryptingReader):
    """Plaintext bytes ``[start, start + length)`` of a GCM message, decrypted with AES-CTR: unauthenticated.

    ``source`` yields the ciphertext from offset ``source_offset`` (at most ``start``) on.
    """

    def __init__(self, source: Readable, cipher: ContentCipher, source_offset: int, start: int, length: int) -> None:
        super().__init__(source, RangeDecryption(cipher, source_offset, start, length))


def plaintext_reader(
    source: Readable, ciphertext_length: int, cipher: ContentCipher, *, delayed: bool, memory_limit: int
) -> io.RawIOBase:
    """The reader for an object's content: authenticated (the default), delayed, or legacy CBC."""
    decryption = streaming_decryption(ciphertext_length, cipher, delayed=delayed)
    if decryption is not None:
        return DecryptingReader(source, decryption)
    return AuthenticatedReader(source, ciphertext_length, cipher, memory_limit)


def _close(source: Readable) -> None:
    close = getattr(source, "close", None)
    if close is not None:
        close()


def _read_up_to(source: Readable, size: int) -> bytes:
    """``size`` bytes of ``source``, or fewer if it ends first."""
    parts = []
    while size and (data := source.read(size)):
        parts.append(data)
        size -= len(data)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _read_exactly(source: Readable, size: int) -> bytes:
    parts = []
    while size:
        data = source.read(size)
        if not data:
            raise DecryptionError("the object's body ended inside its GCM tag: it was truncated")
        parts.append(data)
        size -= len(data)
    return b"".join(parts)
