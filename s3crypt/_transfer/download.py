"""Managed downloads: ranges written where they belong in a file as they arrive, then one sequential pass.

Ranged GETs of the ciphertext (:mod:`.arrivals`) run on ``max_concurrency`` threads, each streaming its body in
``io_chunksize`` chunks straight to the chunk's offset in a file, so memory holds a few chunks whatever the
range size. The calling thread follows the bytes that have arrived contiguously from the start, and
authenticates them in one sequential pass, overlapping the downloads:

- ``download_file``: the file is a temporary file beside the target; the pass decrypts it in place (plaintext
  over ciphertext), checks the tag, cuts the tag off and renames the file into place;
- ``download_fileobj``: the file is an anonymous temporary file holding ciphertext only; the pass checks the
  tag, then a second pass decrypts it (AES-CTR) into the caller's file object.
"""

from __future__ import annotations

import os
import tempfile
from typing import IO, Any

from s3crypt._core.transfers import range_header
from s3crypt._crypto.content import ContentCipher
from s3crypt._crypto.streams import CHUNK_SIZE, DelayedAuthReader, RangeReader, plaintext_reader
from s3crypt._crypto.suites import GCM_TAG_LENGTH
from s3crypt._operations.get import object_cipher
from s3crypt._operations.instruction import completed, take_suffix
from s3crypt._operations.params import encryption_context_for
from s3crypt._operations.unhooked import unhooked
from s3crypt._transfer.arrivals import GetRange, arrivals_of
from s3crypt._transfer.utils import Callback, Transfer, landing_beside, report, write_at

_NOTHING_WRITTEN = "the download's temporary file was removed and the target left as it was"
_NOTHING_RELEASED = "nothing was written to the file object"


class Downloader:
    """The managed downloads of one encrypting client, with ``ExtraArgs`` already checked."""

    def __init__(self, client: Any, config: Any) -> None:
        self._client = client
        self._config = config

    def download_file(self, filename: str | os.PathLike[str], transfer: Transfer) -> None:
        target = os.fspath(filename)
        size, cipher, get_range = self._prepare(transfer.bucket, transfer.key, transfer.args)
        with landing_beside(target) as landing, arrivals_of(get_range, landing.fd, size, transfer.config) as arrived:
            if cipher.suite.is_legacy:  # CBC: no tag, decrypted only when the client opted into legacy modes
                reader = plaintext_reader(arrived, size, cipher, delayed=True, memory_limit=0)
            else:  # plaintext over the ciphertext it came from; only a verified tag renames the file into place
                reader = DelayedAuthReader(arrived, size, cipher, released=_NOTHING_WRITTEN)
            landing.length = _decrypt_in_place(reader, landing.fd, transfer.callback)  # the last read checks the tag

    def download_fileobj(self, fileobj: IO[bytes], transfer: Transfer) -> None:
        size, cipher, get_range = self._prepare(transfer.bucket, transfer.key, transfer.args)
        with tempfile.TemporaryFile() as spool:
            fd = spool.fileno()
            with arrivals_of(get_range, fd, size, transfer.config) as arrived:
                if cipher.suite.is_legacy:  # CBC has no tag to wait for
                    _copy(
                        plaintext_reader(arrived, size, cipher, delayed=False, memory_limit=0),
                        fileobj,
                        transfer.callback,
                    )
                    return
                _authenticate(DelayedAuthReader(arrived, size, cipher, released=_NOTHING_RELEASED))
            spool.seek(0)
            _copy(RangeReader(spool, cipher, 0, 0, size - GCM_TAG_LENGTH), fileobj, transfer.callback)

    def _prepare(self, bucket: str, key: str, args: dict[str, Any]) -> tuple[int, ContentCipher, GetRange]:
        """The object's ciphertext size and content cipher, and a ranged GET pinned to this version of it."""
        args = dict(args)
        context = encryption_context_for(self._config, args.pop("EncryptionContext", None), bucket, key)
        suffix = take_suffix(args)
        head = self._client.head_object(Bucket=bucket, Key=key, **args)
        size: int = head["ContentLength"]
        stored_metadata = completed(self._client, bucket, key, suffix, head.get("Metadata") or {})
        cipher = object_cipher(self._config, stored_metadata, size, context)
        get_args = {**args, "IfMatch": head["ETag"]}
        raw_reads = unhooked(self._client)  # the ranges are read as stored, and decrypted here

        def get_range(start: int, end: int) -> Any:
            return raw_reads.get_object(Bucket=bucket, Key=key, Range=range_header(start, end), **get_args)["Body"]

        return size, cipher, get_range


def _decrypt_in_place(reader: Any, fd: int, callback: Callback) -> int:
    """Write the plaintext over the ciphertext it was read from (never ahead of the reading); its length."""
    written = 0
    while chunk := reader.read(CHUNK_SIZE):
        write_at(fd, chunk, written)
        written += len(chunk)
        report(callback, len(chunk))
    return written


def _authenticate(reader: Any) -> None:
    while reader.read(CHUNK_SIZE):  # the plaintext is dropped: it is decrypted again once the tag has verified
        pass


def _copy(reader: Any, out: IO[bytes], callback: Callback) -> None:
    while chunk := reader.read(CHUNK_SIZE):
        out.write(chunk)
        report(callback, len(chunk))
