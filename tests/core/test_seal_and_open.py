"""The core's put and get decisions on their own, without S3 or botocore: what a shell (sync or asyncio) does."""

from __future__ import annotations

import io
import os

import pytest

from s3crypt import AesKeyring, ConfigurationError, DecryptionError, EncryptionConfig, FormatError
from s3crypt.core.get import UnsatisfiableRange, content_cipher_for, locate, plan_get, read_plan, unwrap_request
from s3crypt.core.put import key_request, seal
from s3crypt.crypto.streams import EncryptingStream, plaintext_reader
from s3crypt.format import instruction
from tests.conftest import V2_OPTIONS

PLAINTEXT = b"the core has no I/O" * 100
CONTEXT: dict[str, str] = {}


@pytest.fixture
def config() -> EncryptionConfig:
    return EncryptionConfig(keyring=AesKeyring(os.urandom(32)), enable_ranged_get=True)


def sealed_object(config: EncryptionConfig, *, instruction_file: bool = False) -> tuple[dict[str, str], bytes]:
    """What a shell stores for PLAINTEXT: its metadata (completed from any instruction file) and ciphertext."""
    request = key_request(config, {}, CONTEXT, len(PLAINTEXT), instruction_file=instruction_file)
    sealed = seal(request, {}, config.keyring.generate_data_key(*request.arguments))
    ciphertext = EncryptingStream(io.BytesIO(PLAINTEXT), len(PLAINTEXT), sealed.message).read()
    assert all(name.startswith("x-amz-meta-") for name in sealed.headers)
    return {**sealed.metadata, **(sealed.instruction or {})}, ciphertext


def opened(config: EncryptionConfig, stored: dict[str, str], body: bytes, params: dict[str, str]) -> bytes:
    plan = plan_get(config, params)
    located = locate(plan, len(body), None if plan.range is None else f"bytes 0-{len(body) - 1}/{len(body)}")
    request = unwrap_request(config, stored, located.object_size, CONTEXT)
    cipher = content_cipher_for(request.envelope, config.keyring.decrypt_data_key(*request.arguments))
    reading = read_plan(located, cipher, request.envelope)
    if reading.window is not None:
        return body[reading.window.start : reading.window.start + reading.window.length]  # CTR is the shell's
    reader = plaintext_reader(io.BytesIO(body), len(body), cipher, delayed=False, memory_limit=1 << 20)
    return reader.read()


@pytest.mark.parametrize("instruction_file", [False, True])
def test_a_sealed_object_opens(config: EncryptionConfig, instruction_file: bool) -> None:
    stored, ciphertext = sealed_object(config, instruction_file=instruction_file)
    assert len(ciphertext) == len(PLAINTEXT) + 16
    assert opened(config, stored, ciphertext, {}) == PLAINTEXT


def test_the_instruction_file_holds_the_wrapped_key(config: EncryptionConfig) -> None:
    request = key_request(config, {}, CONTEXT, 5, instruction_file=True)
    sealed = seal(request, {}, config.keyring.generate_data_key(*request.arguments))
    assert sealed.instruction is not None
    assert instruction.needed(sealed.metadata)


def test_a_key_request_refuses_metadata_with_no_room_for_the_envelope(config: EncryptionConfig) -> None:
    with pytest.raises(ConfigurationError, match="over S3's limit"):
        key_request(config, {"big": "x" * 2000}, CONTEXT, 5, instruction_file=False)


def test_envelopes_are_checked_against_the_object_and_the_policy() -> None:
    v2 = EncryptionConfig(keyring=AesKeyring(os.urandom(32)), **V2_OPTIONS)
    stored, ciphertext = sealed_object(v2)  # V2 records the plaintext length
    assert opened(v2, stored, ciphertext, {}) == PLAINTEXT
    with pytest.raises(FormatError, match="was altered"):
        unwrap_request(v2, stored, len(ciphertext) + 1, CONTEXT)
    with pytest.raises(FormatError, match="no key commitment"):
        unwrap_request(EncryptionConfig(keyring=v2.keyring), stored, len(ciphertext), CONTEXT)


def test_a_range_plan_asks_for_the_ciphertext_range_and_reads_its_window(config: EncryptionConfig) -> None:
    plan = plan_get(config, {"Range": "bytes=-10"})
    assert plan.ciphertext_range == "bytes=-26"  # the suffix grows by the tag
    located = locate(plan, 26, f"bytes {len(PLAINTEXT) - 10}-{len(PLAINTEXT) + 15}/{len(PLAINTEXT) + 16}")
    assert located.object_size == len(PLAINTEXT) + 16
    assert located.window is not None
    assert located.window.length == 10


def test_a_range_beyond_the_plaintext_is_unsatisfiable(config: EncryptionConfig) -> None:
    plan = plan_get(config, {"Range": f"bytes={len(PLAINTEXT)}-"})
    with pytest.raises(UnsatisfiableRange):
        locate(plan, 16, f"bytes {len(PLAINTEXT)}-{len(PLAINTEXT) + 15}/{len(PLAINTEXT) + 16}")


def test_an_unasked_range_in_the_response_is_refused(config: EncryptionConfig) -> None:
    with pytest.raises(DecryptionError, match="not asked for"):
        locate(plan_get(config, {}), 100, "bytes 0-99/200")


def test_ranges_need_the_option_and_part_numbers_are_refused() -> None:
    strict = EncryptionConfig(keyring=AesKeyring(os.urandom(32)))
    with pytest.raises(ConfigurationError, match="enable_ranged_get"):
        plan_get(strict, {"Range": "bytes=1-2"})
    assert plan_get(strict, {"Range": "bytes=0-"}).whole_range
    with pytest.raises(ConfigurationError, match="PartNumber"):
        plan_get(strict, {"PartNumber": "1"})
