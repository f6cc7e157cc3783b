"""A body that changes between two reads is never encrypted twice under one keystream: the later read fails."""

from __future__ import annotations

import base64
import hashlib
import io
import os
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig

import s3crypt
from s3crypt._crypto.content import content_cipher
from s3crypt._crypto.rereads import PIECE
from s3crypt._crypto.streams import EncryptingStream, GcmMessage
from s3crypt._crypto.suites import AlgorithmSuite
from tests.conftest import BUCKET

MIB = 1024 * 1024
V3 = AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY


def message(length: int) -> GcmMessage:
    return GcmMessage(content_cipher(V3, os.urandom(32), os.urandom(28)), length)


class CountedReads(io.BytesIO):
    """A body that counts the passes over it: a read from offset 0 starts one."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.passes = 0

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() == 0:
            self.passes += 1
        return super().read(size)


class ChangesAfterFirstPass(CountedReads):
    """A body whose byte at ``where`` changes after ``after`` passes over it (a file still being written)."""

    def __init__(self, data: bytes, where: int, after: int = 1) -> None:
        super().__init__(data)
        self.where = where
        self.after = after

    def read(self, size: int | None = -1) -> bytes:
        if self.passes == self.after and self.tell() == 0:
            self.getbuffer()[self.where] ^= 1
        return super().read(size)


@pytest.mark.parametrize("where", [0, PIECE - 1, PIECE, 2 * MIB + 7], ids=["first", "piece-end", "second", "last"])
def test_a_re_read_that_differs_from_the_first_is_refused(where: int) -> None:
    body = os.urandom(2 * MIB + 100)
    source = ChangesAfterFirstPass(body, where)
    stream = EncryptingStream(source, len(body), message(len(body)))
    assert len(stream.read()) == len(body) + 16
    stream.seek(0)
    with pytest.raises(s3crypt.EncryptionError, match="changed while it was being uploaded"):
        b"".join(iter(lambda: stream.read(8192), b""))


def test_an_unchanged_re_read_gives_the_same_ciphertext_in_any_read_sizes() -> None:
    body = os.urandom(3 * MIB + 5)
    stream = EncryptingStream(CountedReads(body), len(body), message(len(body)))
    first = stream.read()
    stream.seek(0)
    second = b"".join(iter(lambda: stream.read(8191), b""))
    assert first == second


def test_two_parts_of_one_message_share_no_piece() -> None:
    """Parts that end off the piece grid each check their own edge pieces."""
    body = os.urandom(3 * MIB)
    shared = message(len(body))
    part = MIB + 12345
    streams = [
        EncryptingStream(io.BytesIO(body[:part]), part, shared, 0, last=False),
        EncryptingStream(io.BytesIO(body[part:]), len(body) - part, shared, part),
    ]
    ciphertext = [s.read() for s in streams]
    for s in streams:
        s.seek(0)
    assert [s.read() for s in streams] == ciphertext


def test_put_object_of_a_body_that_changes_between_passes_fails_and_stores_nothing(s3c: Any, plain_s3: Any) -> None:
    """With ContentMD5 s3crypt reads the plaintext, then botocore gets the ciphertext's MD5 in one pass over the
    stream and sends it in another: the body changes after the first of those."""
    body = os.urandom(3 * MIB)
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    counted = CountedReads(body)
    s3c.put_object(Bucket=BUCKET, Key="steady", Body=counted, ContentMD5=md5)
    assert counted.passes == 3
    with pytest.raises(s3crypt.EncryptionError, match="changed"):
        s3c.put_object(
            Bucket=BUCKET, Key="changing", Body=ChangesAfterFirstPass(body, 2 * MIB, after=2), ContentMD5=md5
        )
    assert "Contents" not in plain_s3.list_objects_v2(Bucket=BUCKET, Prefix="changing")


def test_upload_file_of_a_file_changed_between_its_reads_fails_and_aborts(
    s3c: Any, plain_s3: Any, tmp_path: Path
) -> None:
    path = tmp_path / "growing"
    path.write_bytes(os.urandom(12 * MIB))

    def change_the_file(_: int) -> None:  # after the first part sent, whose task read the whole file to feed GCM
        with path.open("r+b") as f:
            f.seek(100)
            f.write(b"changed")

    one_at_a_time = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=1)
    with pytest.raises(s3crypt.EncryptionError, match="changed"):
        s3c.upload_file(str(path), BUCKET, "growing", Callback=change_the_file, Config=one_at_a_time)
    assert "Uploads" not in plain_s3.list_multipart_uploads(Bucket=BUCKET)
    assert "Contents" not in plain_s3.list_objects_v2(Bucket=BUCKET, Prefix="growing")


def test_a_re_read_in_other_pieces_than_the_first_cannot_slip_through() -> None:
    body = os.urandom(PIECE * 2)
    shared = message(len(body))
    shared.encrypt(0, body[: PIECE + 10])  # the first pass cut at PIECE + 10
    with pytest.raises(s3crypt.EncryptionError, match="other pieces"):
        shared.encrypt(PIECE, body[PIECE : PIECE + 20])
