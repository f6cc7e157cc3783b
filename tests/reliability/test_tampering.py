"""Hostile storage: every change an attacker with write access to the bucket can make is refused.

Each case stores an object written by s3crypt, alters what S3 holds with a plain client (one byte of the body,
of a crypto metadata value or of the instruction file; a cut or extended body; metadata swapped, replayed or
mixed across formats) and reads it back: the read must fail with :class:`s3crypt.DecryptionError` (a
:class:`s3crypt.FormatError` is one) before a single plaintext byte reaches the caller, and a download must leave
no file behind.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig

import s3crypt
from s3crypt._format.metadata import ALL_KEYS
from tests.conftest import BUCKET, V2_OPTIONS

pytestmark = pytest.mark.front_ends  # each test runs on the sync and the asyncio client

MIB = 1024 * 1024
CONTEXT = {"purpose": "tamper-test"}
INSTRUCTION = ".instruction"


@dataclass(frozen=True)
class Stored:
    """What S3 holds for one object: its body, its metadata and its instruction file (if any)."""

    body: bytes
    metadata: dict[str, str]
    instruction: bytes | None = None

    def crypto_values(self) -> Iterator[tuple[str, str]]:
        yield from ((k, v) for k, v in sorted(self.metadata.items()) if k in ALL_KEYS)

    def with_changed_metadata(self, name: str, position: int) -> Stored:
        """This object with one character of its metadata value ``name`` changed."""
        changed = flipped(self.metadata[name].encode("ascii"), position).decode("ascii")
        return replace(self, metadata={**self.metadata, name: changed})

    def metadata_changes(self) -> Iterator[Stored]:
        """This object with one character changed, for every character of every crypto metadata value."""
        for name, value in self.crypto_values():
            for position in range(len(value)):
                yield self.with_changed_metadata(name, position)


def read_stored(plain_s3: Any, key: str) -> Stored:
    response = plain_s3.get_object(Bucket=BUCKET, Key=key)
    try:
        instruction = plain_s3.get_object(Bucket=BUCKET, Key=key + INSTRUCTION)["Body"].read()
    except plain_s3.exceptions.NoSuchKey:
        instruction = None
    return Stored(response["Body"].read(), response["Metadata"], instruction)


def write_stored(plain_s3: Any, key: str, stored: Stored) -> None:
    plain_s3.put_object(Bucket=BUCKET, Key=key, Body=stored.body, Metadata=stored.metadata)
    if stored.instruction is not None:
        plain_s3.put_object(
            Bucket=BUCKET,
            Key=key + INSTRUCTION,
            Body=stored.instruction,
            Metadata={"x-amz-crypto-instr-file": ""},
        )


def flipped(data: bytes, position: int) -> bytes:
    """``data`` with one bit of one byte changed (for text, a character turned into its neighbour)."""
    changed = bytearray(data)
    changed[position] ^= 0x01
    return bytes(changed)


def assert_get_refused(client: Any, key: str, **params: Any) -> None:
    """The read fails before releasing anything: not even the first byte comes out."""
    with pytest.raises(s3crypt.DecryptionError):
        first_byte(client.get_object(Bucket=BUCKET, Key=key, EncryptionContext=CONTEXT, **params))


def first_byte(response: dict[str, Any]) -> bytes:
    data: bytes = response["Body"].read(1)
    return data


def assert_download_refused(client: Any, key: str, directory: Path) -> None:
    target = directory / "target.bin"
    with pytest.raises(s3crypt.DecryptionError):
        client.download_file(BUCKET, key, str(target), ExtraArgs={"EncryptionContext": CONTEXT})
    assert list(directory.iterdir()) == [], "a refused download left a file behind"


FORMATS = {
    "v3-metadata": {},
    "v2-metadata": V2_OPTIONS,
    "v3-instruction": {"instruction_file": True},
    "v2-instruction": {**V2_OPTIONS, "instruction_file": True},
}


@pytest.fixture(params=sorted(FORMATS))
def writer(request: pytest.FixtureRequest, plain_s3: Any, keyring: s3crypt.KmsKeyring, make_client: Any) -> Any:
    options: dict[str, Any] = FORMATS[request.param]
    return make_client(keyring=keyring, **options)


@pytest.fixture
def reader(plain_s3: Any, keyring: s3crypt.KmsKeyring, make_client: Any) -> Any:
    """A client that reads every format (V2 included) but nothing legacy."""
    return make_client(keyring=keyring, enable_ranged_get=True)


def put(writer: Any, plain_s3: Any, key: str, body: bytes) -> Stored:
    writer.put_object(Bucket=BUCKET, Key=key, Body=body, EncryptionContext=CONTEXT)
    return read_stored(plain_s3, key)


def test_every_byte_of_the_body(writer: Any, reader: Any, plain_s3: Any) -> None:
    original = put(writer, plain_s3, "k", b"thirty-two bytes of plain text..")
    for position in range(len(original.body)):
        write_stored(plain_s3, "k", replace(original, body=flipped(original.body, position)))
        assert_get_refused(reader, "k")


def test_every_byte_of_every_crypto_metadata_value(writer: Any, reader: Any, plain_s3: Any) -> None:
    original = put(writer, plain_s3, "k", b"a secret")
    assert list(original.crypto_values()), "the object carries no crypto metadata"
    for changed in original.metadata_changes():
        write_stored(plain_s3, "k", changed)
        assert_get_refused(reader, "k")


def test_every_byte_of_the_instruction_file(
    reader: Any, plain_s3: Any, keyring: s3crypt.KmsKeyring, make_client: Any
) -> None:
    for options in (FORMATS["v3-instruction"], FORMATS["v2-instruction"]):
        writer = make_client(keyring=keyring, **options)
        original = put(writer, plain_s3, "k", b"a secret")
        assert original.instruction is not None
        for position in range(len(original.instruction)):
            write_stored(plain_s3, "k", replace(original, instruction=flipped(original.instruction, position)))
            assert_get_refused(reader, "k")


BODY_CHANGES: dict[str, Callable[[bytes], bytes]] = {
    "last byte cut": lambda body: body[:-1],
    "tag cut": lambda body: body[:-16],
    "only the tag left": lambda body: body[-16:],
    "empty": lambda body: b"",
    "one byte more": lambda body: body + b"\x00",
    "a block more": lambda body: body + bytes(16),
    "tag moved to the front": lambda body: body[-16:] + body[:-16],
}


@pytest.mark.parametrize("change", BODY_CHANGES.values(), ids=BODY_CHANGES.keys())
def test_cut_and_extended_bodies(writer: Any, reader: Any, plain_s3: Any, change: Callable[[bytes], bytes]) -> None:
    original = put(writer, plain_s3, "k", b"thirty-two bytes of plain text..")
    write_stored(plain_s3, "k", replace(original, body=change(original.body)))
    assert_get_refused(reader, "k")


def test_metadata_swapped_between_two_objects(writer: Any, reader: Any, plain_s3: Any) -> None:
    first = put(writer, plain_s3, "first", b"the first object")
    second = put(writer, plain_s3, "second", b"the other object")
    write_stored(plain_s3, "first", replace(first, metadata=second.metadata, instruction=second.instruction))
    write_stored(plain_s3, "second", replace(second, body=first.body))
    assert_get_refused(reader, "first")
    assert_get_refused(reader, "second")


def test_older_metadata_replayed_on_a_newer_body(writer: Any, reader: Any, plain_s3: Any) -> None:
    older = put(writer, plain_s3, "k", b"version one")
    newer = put(writer, plain_s3, "k", b"version two")
    write_stored(plain_s3, "k", replace(newer, metadata=older.metadata, instruction=older.instruction))
    assert_get_refused(reader, "k")
    write_stored(plain_s3, "k", replace(older, body=newer.body))
    assert_get_refused(reader, "k")


def test_keys_of_two_format_versions_at_once(s3c: Any, s3c_v2: Any, reader: Any, plain_s3: Any) -> None:
    stored = {
        "v3": put(s3c, plain_s3, "v3", b"same length body"),
        "v2": put(s3c_v2, plain_s3, "v2", b"same length body"),
    }
    for key, other in (("v3", "v2"), ("v2", "v3")):
        mixed = {**stored[other].metadata, **stored[key].metadata}
        write_stored(plain_s3, key, replace(stored[key], metadata=mixed))
        with pytest.raises(s3crypt.FormatError, match="two format versions"):
            reader.get_object(Bucket=BUCKET, Key=key, EncryptionContext=CONTEXT)


SUITE_AND_TAG_CHANGES = {
    "V3 says the V2 suite": ("v3", "x-amz-c", "114"),
    "V3 says the CBC suite": ("v3", "x-amz-c", "112"),
    "V3 says an unknown suite": ("v3", "x-amz-c", "116"),
    "V2 says CBC": ("v2", "x-amz-cek-alg", "AES/CBC/PKCS5Padding"),
    "V2 says CTR": ("v2", "x-amz-cek-alg", "AES/CTR/NoPadding"),
    "V2 tag of 96 bits": ("v2", "x-amz-tag-len", "96"),
    "V2 tag of 0 bits": ("v2", "x-amz-tag-len", "0"),
    "V2 tag of 256 bits": ("v2", "x-amz-tag-len", "256"),
}


@pytest.mark.parametrize(("version", "name", "value"), SUITE_AND_TAG_CHANGES.values(), ids=SUITE_AND_TAG_CHANGES.keys())
def test_wrong_suite_or_tag_length(
    request: pytest.FixtureRequest, reader: Any, plain_s3: Any, version: str, name: str, value: str
) -> None:
    client = request.getfixturevalue("s3c" if version == "v3" else "s3c_v2")
    original = put(client, plain_s3, "k", b"a secret")
    write_stored(plain_s3, "k", replace(original, metadata={**original.metadata, name: value}))
    with pytest.raises(s3crypt.FormatError):
        reader.get_object(Bucket=BUCKET, Key="k", EncryptionContext=CONTEXT)


def test_downloads_refuse_tampering_and_leave_nothing(s3c: Any, plain_s3: Any, tmp_path: Path) -> None:
    """A download of several ranges: a changed byte in the first, a middle or the last range, or in the tag."""
    s3c.upload_file(
        _file(tmp_path / "source", 9 * MIB + 3),
        BUCKET,
        "big",
        ExtraArgs={"EncryptionContext": CONTEXT},
        Config=TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB),
    )
    original = read_stored(plain_s3, "big")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    size = len(original.body)
    for position in (0, 4 * MIB + 1, 8 * MIB + 7, size - 17, size - 1):
        write_stored(plain_s3, "big", replace(original, body=flipped(original.body, position)))
        assert_download_refused(s3c, "big", downloads)
    for name, value in original.crypto_values():
        write_stored(plain_s3, "big", original.with_changed_metadata(name, len(value) // 2))
        assert_download_refused(s3c, "big", downloads)


def test_ranged_gets_refuse_altered_metadata(s3c: Any, reader: Any, plain_s3: Any) -> None:
    """A ranged get cannot authenticate the content (it has no tag), but every crypto metadata value it uses is
    still checked: the wrapped key by KMS and its context, the message id and commitment by key commitment."""
    original = put(s3c, plain_s3, "k", b"thirty-two bytes of plain text..")
    for changed in original.metadata_changes():
        write_stored(plain_s3, "k", changed)
        assert_get_refused(reader, "k", Range="bytes=3-20")


def test_delayed_authentication_raises_by_the_end_of_the_body(
    s3c: Any, plain_s3: Any, keyring: s3crypt.KmsKeyring, make_client: Any
) -> None:
    """The opt-in trade: plaintext streams before the tag is checked, and reading to the end raises."""
    delayed = make_client(keyring=keyring, enable_delayed_authentication=True)
    original = put(s3c, plain_s3, "k", os.urandom(100_000))
    for position in (0, 50_000, len(original.body) - 1):
        write_stored(plain_s3, "k", replace(original, body=flipped(original.body, position)))
        body = delayed.get_object(Bucket=BUCKET, Key="k", EncryptionContext=CONTEXT)["Body"]
        with pytest.raises(s3crypt.DecryptionError):
            drain(body)


def drain(body: Any) -> None:
    while body.read(8192):
        pass


def _file(path: Path, size: int) -> str:
    path.write_bytes(os.urandom(size))
    return str(path)
