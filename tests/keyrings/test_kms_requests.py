"""The KMS keyrings' calls split into requests, response readers and error mapping that do no I/O, so that an
asyncio shell can await the same calls on its own KMS client; and discovery as a keyring that only decrypts."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

import s3crypt
from s3crypt.keyrings import BaseKmsKeyring

SUITE = s3crypt.AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY
CONTEXT = {"tenant": "t"}


def _refused(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "no"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "X")


def test_discovery_is_a_sibling_of_kms_keyring_that_only_decrypts(kms: Any) -> None:
    discovery = s3crypt.KmsKeyring.discovery(kms_client=kms)
    assert isinstance(discovery, BaseKmsKeyring)
    assert isinstance(discovery, s3crypt.KmsDiscoveryKeyring)
    assert not isinstance(discovery, s3crypt.KmsKeyring)
    assert not hasattr(discovery, "generate_request")
    assert not hasattr(discovery, "key_id")
    with pytest.raises(s3crypt.ConfigurationError, match="only decrypts"):
        discovery.generate_data_key(SUITE, CONTEXT)


def test_requests_and_responses_make_the_calls_the_sync_keyring_makes(kms: Any, kms_key: str) -> None:
    """Driven by hand (as an asyncio shell would, around its own awaited calls), the pieces give a data key
    that the keyring's own sync calls unwrap, and the other way round."""
    keyring = s3crypt.KmsKeyring(kms_key, kms_client=kms)
    request = keyring.generate_request(SUITE, CONTEXT)
    assert request == {
        "KeyId": kms_key,
        "KeySpec": "AES_256",
        "EncryptionContext": {**CONTEXT, "aws:x-amz-cek-alg": "115"},
    }
    data_key = keyring.data_key_from(kms.generate_data_key(**request), request)
    assert keyring.decrypt_data_key(data_key.encrypted, SUITE, CONTEXT) == data_key.plaintext

    synced = keyring.generate_data_key(SUITE, CONTEXT)
    decrypt = keyring.decrypt_request(synced.encrypted, SUITE, CONTEXT)
    assert decrypt["KeyId"] == kms_key
    assert keyring.plaintext_from(kms.decrypt(**decrypt)) == synced.plaintext

    rewrap = keyring.encrypt_request(synced.plaintext, SUITE, CONTEXT)
    rewrapped = keyring.encrypted_key_from(kms.encrypt(**rewrap), rewrap)
    assert keyring.decrypt_data_key(rewrapped, SUITE, CONTEXT) == synced.plaintext


def test_discovery_names_no_key_and_reads_the_allow_lists_from_the_response(kms: Any, kms_key: str) -> None:
    wrapped = s3crypt.KmsKeyring(kms_key, kms_client=kms).generate_data_key(SUITE, CONTEXT)
    arn = kms.describe_key(KeyId=kms_key)["KeyMetadata"]["Arn"]
    allowed = s3crypt.KmsKeyring.discovery(allowed_key_arns=[arn])
    request = allowed.decrypt_request(wrapped.encrypted, SUITE, CONTEXT)
    assert "KeyId" not in request
    response = kms.decrypt(**request)
    assert allowed.plaintext_from(response) == wrapped.plaintext
    excluded = s3crypt.KmsKeyring.discovery(allowed_key_arns=[arn + "-other"])
    with pytest.raises(s3crypt.DecryptionError, match="allow-lists exclude"):
        excluded.plaintext_from(response)


def test_the_decrypt_request_checks_the_context_before_any_call(kms: Any, kms_key: str) -> None:
    wrapped = s3crypt.KmsKeyring(kms_key, kms_client=kms).generate_data_key(SUITE, CONTEXT)
    without_client = s3crypt.KmsKeyring(kms_key)
    with pytest.raises(s3crypt.DecryptionError, match="does not match"):
        without_client.decrypt_request(wrapped.encrypted, SUITE, {"tenant": "other"})
    with pytest.raises(s3crypt.DecryptionError, match="does not match"):
        s3crypt.KmsKeyring.discovery().decrypt_request(wrapped.encrypted, SUITE, {})


def test_incomplete_responses_are_refused() -> None:
    keyring = s3crypt.KmsKeyring("alias/k")
    request = keyring.generate_request(SUITE, CONTEXT)
    with pytest.raises(s3crypt.EncryptionError, match=r"no CiphertextBlob\); nothing was uploaded"):
        keyring.data_key_from({"Plaintext": b"k" * 32}, request)
    with pytest.raises(s3crypt.EncryptionError, match="no CiphertextBlob"):
        keyring.encrypted_key_from({}, keyring.encrypt_request(b"k" * 32, SUITE, CONTEXT))
    with pytest.raises(s3crypt.DecryptionError, match=r"no Plaintext\); .* try again later"):
        keyring.plaintext_from({})
    with pytest.raises(s3crypt.DecryptionError, match="no KeyId, Plaintext"):
        s3crypt.KmsKeyring.discovery().plaintext_from({})


def test_errors_name_the_call_the_key_and_what_to_do() -> None:
    keyring = s3crypt.KmsKeyring("alias/k")
    refused, throttled = _refused("AccessDeniedException", 400), _refused("ThrottlingException", 400)
    unreachable = EndpointConnectionError(endpoint_url="https://kms")
    generate = keyring.generate_failed(refused)
    assert isinstance(generate, s3crypt.EncryptionError)
    assert (
        str(generate)
        == "KMS GenerateDataKey with key 'alias/k' failed (AccessDeniedException: no); nothing was uploaded"
    )
    assert str(keyring.encrypt_failed(refused)) == "KMS Encrypt with key 'alias/k' failed (AccessDeniedException: no)"
    assert "written with and that you may use it" in str(keyring.decrypt_failed(refused))
    assert "'alias/k'" in str(keyring.decrypt_failed(refused))
    for transient in (throttled, _refused("KMSInternalException", 500), unreachable):
        assert str(keyring.decrypt_failed(transient)).endswith("try again later")
    discovery = s3crypt.KmsKeyring.discovery().decrypt_failed(refused)
    assert str(discovery) == (
        "KMS could not decrypt the object's data key (AccessDeniedException: no); "
        "check that you may use the key it was written with"
    )
