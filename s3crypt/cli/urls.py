"""``s3://bucket/key`` URLs as the command line takes them."""

from __future__ import annotations

from dataclasses import dataclass

from s3crypt.cli.errors import CliUsageError

SCHEME = "s3://"


@dataclass(frozen=True)
class S3Url:
    """``s3://bucket/key``; the key may be empty or a prefix."""

    bucket: str
    key: str = ""

    @classmethod
    def parse(cls, text: str) -> S3Url:
        """The bucket and key of an ``s3://`` URL, or :class:`CliError`."""
        if not is_s3_url(text):
            raise CliUsageError(f"{text!r} is not an s3:// URL")
        bucket, _, key = text[len(SCHEME) :].partition("/")
        if not bucket:
            raise CliUsageError(f"{text!r} names no bucket: use s3://BUCKET/KEY")
        return cls(bucket, key)

    def __str__(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.key}"

    @property
    def folder(self) -> str:
        """The key as a folder: empty, or ending with ``/`` (``s3://b/logs`` means the keys under ``logs/``)."""
        return self.key if not self.key or self.key.endswith("/") else self.key + "/"

    def object_key(self) -> str:
        """The key, which must name one object rather than a folder."""
        if not self.key or self.key.endswith("/"):
            raise CliUsageError(f"{self} names no object; add --recursive to work on everything under it")
        return self.key

    def child(self, key: str) -> S3Url:
        """The object ``key`` in the same bucket."""
        return S3Url(self.bucket, key)


def is_s3_url(text: str) -> bool:
    return text.startswith(SCHEME)
