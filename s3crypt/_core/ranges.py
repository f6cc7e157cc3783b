"""Ranged gets: map a plaintext ``Range`` to the ciphertext request, and the response back to plaintext.

The content of a GCM object is CTR mode, so plaintext byte ``i`` is ciphertext byte ``i``; the object is 16
bytes longer than its plaintext (the tag). A ranged read can therefore ask S3 for the same range (a suffix
range grows by the 16 tag bytes), decrypt from the right counter and cut at the end of the content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from s3crypt._crypto.suites import GCM_TAG_LENGTH
from s3crypt._errors import ConfigurationError, DecryptionError

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


@dataclass(frozen=True)
class PlaintextRange:
    """``bytes=first-last``, ``bytes=first-`` (``last`` None) or ``bytes=-suffix`` (``first`` None)."""

    first: int | None
    last: int | None
    suffix: int | None = None

    @classmethod
    def parse(cls, header: str) -> PlaintextRange:
        match = _RANGE.fullmatch(header.strip())
        if not match or match.groups() == ("", ""):
            raise ConfigurationError(
                f"Range {header!r} is not supported: use one range, bytes=first-last, bytes=first- or bytes=-n"
            )
        first, last = match.groups()
        if not first:
            return cls(None, None, int(last))
        if last and int(last) < int(first):
            raise ConfigurationError(f"Range {header!r} ends before it starts")
        return cls(int(first), int(last) if last else None)

    @property
    def covers_whole_object(self) -> bool:
        """``bytes=0-``: the whole object, which is read (and authenticated) as a get without a range is."""
        return self.first == 0 and self.last is None

    def ciphertext_header(self) -> str:
        """The Range to ask S3 for: the same bytes, a suffix widened to include the tag."""
        if self.suffix is not None:
            return f"bytes=-{self.suffix + GCM_TAG_LENGTH}"
        return f"bytes={self.first}-" + ("" if self.last is None else str(self.last))


@dataclass(frozen=True)
class Window:
    """Where the requested plaintext lies in a ranged response."""

    response_start: int
    """Offset in the object of the response's first byte."""
    start: int
    length: int
    plaintext_size: int
    whole_object: bool = False

    @property
    def content_range(self) -> str | None:
        if self.whole_object:
            return None
        return f"bytes {self.start}-{self.start + self.length - 1}/{self.plaintext_size}"


def whole_content_range(content_range: str, ciphertext_size: int, plaintext_size: int | None) -> str | None:
    """The Content-Range of a response to ``bytes=0-`` in plaintext terms (None for an empty or unsized plaintext);
    the response must hold the whole ciphertext."""
    if content_range != f"bytes 0-{ciphertext_size - 1}/{ciphertext_size}":
        raise DecryptionError(f"S3 answered a get of the whole object with Content-Range {content_range!r}")
    return f"bytes 0-{plaintext_size - 1}/{plaintext_size}" if plaintext_size else None


def window(requested: PlaintextRange, content_range: str | None, content_length: int) -> Window | None:
    """The plaintext window of a response; None when the range is not satisfiable for the plaintext."""
    if content_range is None:  # S3 sent the whole object
        response_start, object_size = 0, content_length
    else:
        match = _CONTENT_RANGE.fullmatch(content_range)
        if not match:
            raise DecryptionError(f"S3 answered a ranged get with an unreadable Content-Range {content_range!r}")
        response_start, _, object_size = (int(group) for group in match.groups())
    plaintext_size = object_size - GCM_TAG_LENGTH
    if plaintext_size < 0:
        raise DecryptionError(f"the object holds {object_size} bytes, fewer than the 16-byte GCM tag: truncated")
    if requested.suffix is not None:
        if requested.suffix == 0:
            return None
        if plaintext_size == 0:  # S3 answers a suffix range of an empty object with the whole (empty) object
            return Window(response_start, 0, 0, 0, whole_object=True)
        start, end = max(0, plaintext_size - requested.suffix), plaintext_size
    else:
        assert requested.first is not None
        start = requested.first
        if start >= plaintext_size:
            return None
        end = plaintext_size if requested.last is None else min(requested.last + 1, plaintext_size)
    if response_start > start or response_start + content_length < end:
        raise DecryptionError("S3 answered a ranged get with other bytes than were asked for")
    return Window(response_start, start, end - start, plaintext_size)
