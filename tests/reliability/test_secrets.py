"""Secrets hygiene: with boto3, botocore, urllib3 and s3crypt logging at DEBUG, through every kind of operation
and failure, no plaintext data key, content key, wrapping key or plaintext body appears in the logs, in the
``repr`` of any s3crypt object, or in any exception message.
"""

from __future__ import annotations

import base64
import io
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import s3crypt
from s3crypt.crypto import content
from s3crypt.crypto.content import ContentCipher
from s3crypt.crypto.streams import AuthenticatedReader, DelayedAuthReader, EncryptingStream, GcmMessage
from s3crypt.format import metadata
from s3crypt.testing import TEST_REGION
from tests.conftest import BUCKET, V2_OPTIONS
from tests.helpers import send_parts_and_complete

MIB = 1024 * 1024
SMALL_PARTS = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
BODY_MARKER = b"PLAINTEXT-BODY-MARKER-7f3a9c"
AES_WRAPPING_KEY = os.urandom(32)
RSA_PRIVATE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class KeyRecorder:
    """Every key content_cipher sees: the data keys and the content keys derived from them."""

    def __init__(self) -> None:
        self.keys: list[bytes] = []

    def wrap(self, original: Callable[..., ContentCipher]) -> Callable[..., ContentCipher]:
        def recording(suite: s3crypt.AlgorithmSuite, data_key: bytes, iv: bytes) -> ContentCipher:
            cipher = original(suite, data_key, iv)
            self.keys += [data_key, cipher.key]
            return cipher

        return recording


def forms(secret: bytes) -> Iterator[str]:
    """How a secret could show up in text: hex, base64 (both alphabets) or a Python bytes repr."""
    yield secret.hex()
    yield base64.b64encode(secret).decode()
    yield base64.urlsafe_b64encode(secret).decode()
    yield repr(secret)[2:-1]


def rsa_secret_forms() -> Iterator[str]:
    numbers = RSA_PRIVATE_KEY.private_numbers()
    yield str(numbers.d)
    yield format(numbers.d, "x")
    pem = RSA_PRIVATE_KEY.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    yield from (line for line in pem.splitlines()[1:-1] if len(line) > 40)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> KeyRecorder:
    recorder = KeyRecorder()
    for module in ("s3crypt.core.get", "s3crypt.core.put"):  # every module that imports content_cipher
        monkeypatch.setattr(f"{module}.content_cipher", recorder.wrap(content.content_cipher))
    return recorder


def expect_failure(failures: list[BaseException], operation: Callable[[], Any]) -> None:
    with pytest.raises(s3crypt.S3CryptError) as caught:
        operation()
    failures.append(caught.value)


def exercise(
    kms_keyring: s3crypt.KmsKeyring, plain_s3: Any, tmp_path: Path, failures: list[BaseException]
) -> list[Any]:
    """Runs every kind of operation and failure; returns the s3crypt objects met on the way."""
    body = BODY_MARKER * 1000
    aes = s3crypt.AesKeyring(AES_WRAPPING_KEY, {"purpose": "secrets"})
    rsa_keyring = s3crypt.RsaKeyring(private_key=RSA_PRIVATE_KEY)
    cache = s3crypt.DataKeyCache()
    clients = {
        "kms-v3": s3crypt.client("s3", keyring=kms_keyring, region_name=TEST_REGION, data_key_cache=cache),
        "kms-v2": s3crypt.client("s3", keyring=kms_keyring, region_name=TEST_REGION, **V2_OPTIONS),
        "aes": s3crypt.client("s3", keyring=aes, region_name=TEST_REGION, instruction_file=True),
        "rsa": s3crypt.client("s3", keyring=rsa_keyring, region_name=TEST_REGION),
    }
    for name, client in clients.items():
        context = {"EncryptionContext": {"case": name}} if name.startswith("kms") else {}
        client.put_object(Bucket=BUCKET, Key=name, Body=body, **context)
        response = client.get_object(Bucket=BUCKET, Key=name, **context)
        assert response["Body"].read() == body
    kms = clients["kms-v3"]
    delayed = s3crypt.client("s3", keyring=kms_keyring, region_name=TEST_REGION, enable_delayed_authentication=True)
    assert delayed.get_object(Bucket=BUCKET, Key="kms-v3", EncryptionContext={"case": "kms-v3"})["Body"].read()
    ranged = s3crypt.client("s3", keyring=kms_keyring, region_name=TEST_REGION, enable_ranged_get=True)
    ranged_response = ranged.get_object(
        Bucket=BUCKET, Key="kms-v3", Range="bytes=5-50", EncryptionContext={"case": "kms-v3"}
    )
    assert ranged_response["Body"].read() == body[5:51]

    upload_id = kms.create_multipart_upload(Bucket=BUCKET, Key="multipart")["UploadId"]
    send_parts_and_complete(kms, BUCKET, "multipart", upload_id, [body * 200, body])
    source = tmp_path / "source.bin"
    source.write_bytes(body * 700)
    kms.upload_file(str(source), BUCKET, "transfer", Config=SMALL_PARTS)
    kms.download_file(BUCKET, "transfer", str(tmp_path / "downloaded.bin"), Config=SMALL_PARTS)
    kms.rewrap_object(Bucket=BUCKET, Key="kms-v3", new_keyring=aes, EncryptionContext={"case": "kms-v3"})
    clients["aes"].rewrap_object(Bucket=BUCKET, Key="kms-v3", new_keyring=rsa_keyring)

    stored = plain_s3.get_object(Bucket=BUCKET, Key="kms-v2")
    tampered = bytearray(stored["Body"].read())
    tampered[3] ^= 1
    plain_s3.put_object(Bucket=BUCKET, Key="tampered", Body=bytes(tampered), Metadata=stored["Metadata"])
    expect_failure(failures, lambda: clients["kms-v2"].get_object(Bucket=BUCKET, Key="kms-v2"))  # wrong context
    expect_failure(
        failures, lambda: clients["kms-v2"].get_object(Bucket=BUCKET, Key="tampered")["Body"].read()
    )  # tampered body
    expect_failure(failures, lambda: clients["aes"].get_object(Bucket=BUCKET, Key="rsa"))  # wrong keyring
    expect_failure(
        failures, lambda: kms.download_file(BUCKET, "tampered", str(tmp_path / "never.bin"))
    )  # tampered download
    expect_failure(
        failures, lambda: kms.put_object(Bucket=BUCKET, Key="x", Body=b"x", EncryptionContext={"aws:x": "y"})
    )

    cipher = content.content_cipher(s3crypt.AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY, os.urandom(32),
                                    os.urandom(28))  # fmt: skip
    stream = EncryptingStream(io.BytesIO(body), len(body), GcmMessage(cipher, len(body)))
    ciphertext = stream.read()
    envelope = metadata.decode(plain_s3.head_object(Bucket=BUCKET, Key="kms-v2")["Metadata"])
    return [
        *clients.values(),
        *(client.encryption_config for client in clients.values()),
        *(client.encryption_stats for client in clients.values()),
        kms_keyring,
        aes,
        rsa_keyring,
        s3crypt.KmsKeyring.discovery(kms_client=boto3.client("kms", region_name=TEST_REGION)),
        cache,
        kms_keyring.generate_data_key(envelope.suite, {}),
        envelope,
        envelope.data_key,
        cipher,
        stream,
        GcmMessage(cipher),
        response,
        response["Body"],
        AuthenticatedReader(io.BytesIO(ciphertext), len(ciphertext), cipher),
        DelayedAuthReader(io.BytesIO(ciphertext), len(ciphertext), cipher),
    ]


def test_no_secret_in_logs_reprs_or_errors(
    recorder: KeyRecorder,
    keyring: s3crypt.KmsKeyring,
    plain_s3: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    failures: list[BaseException] = []
    with caplog.at_level(logging.DEBUG):
        for name in ("boto3", "botocore", "urllib3", "s3crypt"):
            logging.getLogger(name).setLevel(logging.DEBUG)
        objects = exercise(keyring, plain_s3, tmp_path, failures)
    assert len(caplog.records) > 500, "DEBUG logging did not reach the capture"
    assert len(recorder.keys) > 20, "the key recorder saw no keys: it does not sit on the path of the keys"
    texts = {
        "the logs": caplog.text,
        "repr()": "\n".join(repr(thing) for thing in objects),
        "exception messages": "\n".join(f"{error!s}\n{error!r}" for error in failures),
    }
    secrets = {f"data or content key {i}": key for i, key in enumerate(recorder.keys)}
    secrets["the AES wrapping key"] = AES_WRAPPING_KEY
    for where, text in texts.items():
        for what, secret in secrets.items():
            leaked = [form for form in forms(secret) if form in text]
            assert not leaked, f"{what} appears in {where}"
        assert not [form for form in rsa_secret_forms() if form in text], f"the RSA private key appears in {where}"
        assert BODY_MARKER.decode() not in text, f"the plaintext body appears in {where}"
