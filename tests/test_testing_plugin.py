"""The pytest plugin, used by test files written exactly as a user writes them (pytester), and assert_encrypted.

The plugin comes from the ``pytest11`` entry point of the installed package: ``pip install -e .`` registers it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from typing import Any

import pytest

import s3crypt
from s3crypt._format.metadata import KMS_CONTEXT
from s3crypt.testing import assert_encrypted

pytest_plugins = ["pytester"]

SECRET = b"the launch codes are 0000, do not tell anyone"
USER_TESTS = """
    import os

    import boto3
    import pytest

    import s3crypt

    SECRET = b"the launch codes are 0000, do not tell anyone"


    def test_round_trip(s3crypt_client, s3crypt_bucket, s3crypt_assert_encrypted, s3crypt_raw_client):
        s3crypt_client.put_object(
            Bucket=s3crypt_bucket, Key="codes.txt", Body=SECRET, EncryptionContext={"tenant": "acme"}
        )
        got = s3crypt_client.get_object(Bucket=s3crypt_bucket, Key="codes.txt", EncryptionContext={"tenant": "acme"})
        assert got["Body"].read() == SECRET
        envelope = s3crypt_assert_encrypted(s3crypt_raw_client, s3crypt_bucket, "codes.txt", SECRET)
        assert envelope.suite.is_committing
        stored = s3crypt_raw_client.get_object(Bucket=s3crypt_bucket, Key="codes.txt")["Body"].read()
        assert SECRET not in stored


    def test_client_is_v3_with_the_fixture_key(s3crypt_client, s3crypt_kms_key):
        config = s3crypt_client.encryption_config
        assert isinstance(s3crypt_client, s3crypt.EncryptionClient)
        assert config.algorithm_suite is s3crypt.AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY
        assert repr(config.keyring) == f"KmsKeyring(key_id={s3crypt_kms_key!r})"


    def test_wrong_context_is_refused(s3crypt_client, s3crypt_bucket):
        s3crypt_client.put_object(Bucket=s3crypt_bucket, Key="k", Body=b"x", EncryptionContext={"tenant": "a"})
        with pytest.raises(s3crypt.DecryptionError):
            s3crypt_client.get_object(Bucket=s3crypt_bucket, Key="k", EncryptionContext={"tenant": "b"})


    def test_only_the_mock_is_reachable(s3crypt_aws):
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
            assert name not in os.environ
        assert boto3.client("sts").get_caller_identity()["Account"] == "123456789012"  # moto's account


    def test_each_test_starts_empty(s3crypt_raw_client, s3crypt_bucket):
        assert s3crypt_raw_client.list_objects_v2(Bucket=s3crypt_bucket)["KeyCount"] == 0
"""


@pytest.fixture
def machine_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a developer's shell may hold; with any of it in effect, the user's tests above would fail."""
    monkeypatch.setenv("AWS_PROFILE", "production-profile-that-does-not-exist")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "a-real-looking-token")


@pytest.mark.usefixtures("machine_environment")
def test_a_user_test_file_gets_the_fixtures_without_any_setup(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_app=textwrap.dedent(USER_TESTS))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_the_fixtures_come_from_the_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_it(s3crypt_bucket):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:s3crypt")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 's3crypt_bucket' not found*"])


def test_without_autoload_a_conftest_loads_it(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makeconftest('pytest_plugins = ["s3crypt.pytest_plugin"]')
    pytester.makepyfile("def test_it(s3crypt_bucket):\n    assert s3crypt_bucket == 's3crypt-test-bucket'\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_user_fixture_overrides_the_bucket(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.fixture
        def s3crypt_bucket(s3crypt_raw_client):
            s3crypt_raw_client.create_bucket(Bucket="my-app-bucket")
            return "my-app-bucket"

        def test_it(s3crypt_client, s3crypt_raw_client):
            s3crypt_client.put_object(Bucket="my-app-bucket", Key="k", Body=b"x")
            names = [bucket["Name"] for bucket in s3crypt_raw_client.list_buckets()["Buckets"]]
            assert names == ["my-app-bucket"]
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_plugin_loads_in_a_fresh_interpreter(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_it(s3crypt_client, s3crypt_bucket, s3crypt_raw_client, s3crypt_assert_encrypted):
            s3crypt_client.put_object(Bucket=s3crypt_bucket, Key="k", Body=b"0123456789abcdef0123")
            s3crypt_assert_encrypted(s3crypt_raw_client, s3crypt_bucket, "k", b"0123456789abcdef0123")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_every_fixture_name_is_prefixed(pytester: pytest.Pytester) -> None:
    """Auto-loaded into every test session of the environment, the plugin must not shadow anyone's fixtures."""
    pytester.makepyfile("def test_it():\n    pass\n")
    result = pytester.runpytest("--fixtures", "-p", "no:cacheprovider")
    output = result.stdout.str()
    section = re.search(r"-+ fixtures defined from s3crypt\.pytest_plugin -+\n(.*?)(?:\n-+ |\Z)", output, re.S)
    assert section is not None, output
    names = re.findall(r"^(\w+)", section.group(1), re.M)
    assert set(names) == {
        "s3crypt_aws",
        "s3crypt_kms_client",
        "s3crypt_kms_key",
        "s3crypt_bucket",
        "s3crypt_client",
        "s3crypt_raw_client",
        "s3crypt_assert_encrypted",
        "s3crypt_moto_endpoint",
        "s3crypt_aio_client",
    }


AIO_USER_TESTS = """
    import asyncio


    def test_async_round_trip(s3crypt_aio_client, s3crypt_bucket, s3crypt_raw_client, s3crypt_assert_encrypted):
        async def run():
            async with s3crypt_aio_client as s3:
                await s3.put_object(Bucket=s3crypt_bucket, Key="k", Body=b"secret", EncryptionContext={"t": "1"})
                got = await s3.get_object(Bucket=s3crypt_bucket, Key="k", EncryptionContext={"t": "1"})
                assert await got["Body"].read() == b"secret"

        asyncio.run(run())
        s3crypt_assert_encrypted(s3crypt_raw_client, s3crypt_bucket, "k", b"secret")
"""


@pytest.mark.usefixtures("machine_environment")
def test_the_asyncio_client_fixture_shares_the_mock(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_aio_app=textwrap.dedent(AIO_USER_TESTS))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_s3crypt_testing_needs_neither_pytest_nor_moto() -> None:
    code = (
        "import sys\n"
        "sys.modules.update(pytest=None, moto=None)  # makes importing them fail\n"
        "from s3crypt.testing import assert_encrypted, moto_server, free_port, TEST_REGION, TEST_CREDENTIALS\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


# assert_encrypted, with the plugin's fixtures used directly


def test_assert_encrypted_accepts_an_encrypted_object(
    s3crypt_client: Any, s3crypt_bucket: str, s3crypt_raw_client: Any
) -> None:
    s3crypt_client.put_object(Bucket=s3crypt_bucket, Key="k", Body=SECRET)
    envelope = assert_encrypted(s3crypt_raw_client, s3crypt_bucket, "k", SECRET)
    assert envelope.data_key.wrapping_algorithm == KMS_CONTEXT
    assert envelope.suite is s3crypt.AlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY


@pytest.mark.parametrize("plaintext", [b"", b"short", SECRET])
def test_assert_encrypted_accepts_any_plaintext_length(
    s3crypt_client: Any, s3crypt_bucket: str, s3crypt_raw_client: Any, plaintext: bytes
) -> None:
    s3crypt_client.put_object(Bucket=s3crypt_bucket, Key="k", Body=plaintext)
    assert_encrypted(s3crypt_raw_client, s3crypt_bucket, "k", plaintext)


@pytest.mark.parametrize("suffix", [None, ".envelope"])
def test_assert_encrypted_finds_the_instruction_file(
    s3crypt_kms_client: Any, s3crypt_kms_key: str, s3crypt_bucket: str, s3crypt_raw_client: Any, suffix: str | None
) -> None:
    keyring = s3crypt.KmsKeyring(s3crypt_kms_key, kms_client=s3crypt_kms_client)
    client = s3crypt.client("s3", keyring=keyring, instruction_file=True)
    client.put_object(Bucket=s3crypt_bucket, Key="k", Body=SECRET)
    if suffix is None:
        envelope = assert_encrypted(s3crypt_raw_client, s3crypt_bucket, "k", SECRET)
    else:
        s3crypt_raw_client.copy_object(
            Bucket=s3crypt_bucket, Key="k" + suffix, CopySource={"Bucket": s3crypt_bucket, "Key": "k.instruction"}
        )
        s3crypt_raw_client.delete_object(Bucket=s3crypt_bucket, Key="k.instruction")
        with pytest.raises(AssertionError, match="damaged S3 Encryption Client metadata"):
            assert_encrypted(s3crypt_raw_client, s3crypt_bucket, "k")
        envelope = assert_encrypted(s3crypt_raw_client, s3crypt_bucket, "k", SECRET, instruction_file_suffix=suffix)
    assert envelope.data_key.wrapping_algorithm == KMS_CONTEXT


def test_assert_encrypted_refuses_a_plain_object(s3crypt_bucket: str, s3crypt_raw_client: Any) -> None:
    s3crypt_raw_client.put_object(Bucket=s3crypt_bucket, Key="k", Body=SECRET)
    with pytest.raises(AssertionError, match=r"s3://s3crypt-test-bucket/k is not client-side encrypted"):
        assert_encrypted(s3crypt_raw_client, s3crypt_bucket, "k")


def test_assert_encrypted_refuses_a_missing_object(s3crypt_bucket: str, s3crypt_raw_client: Any) -> None:
    with pytest.raises(AssertionError, match="could not be read"):
        assert_encrypted(s3crypt_raw_client, s3crypt_bucket, "nothing-here")


def test_assert_encrypted_refuses_damaged_metadata(s3crypt_bucket: str, s3crypt_raw_client: Any) -> None:
    s3crypt_raw_client.put_object(Bucket=s3crypt_bucket, Key="k", Body=b"x", Metadata={"x-amz-c": "115"})
    with pytest.raises(AssertionError, match="damaged S3 Encryption Client metadata"):
        assert_encrypted(s3crypt_raw_client, s3crypt_bucket, "k")


@pytest.fixture
def encrypted_metadata(s3crypt_client: Any, s3crypt_bucket: str, s3crypt_raw_client: Any) -> dict[str, str]:
    """The metadata of a genuinely encrypted object, to dress up plaintext with."""
    s3crypt_client.put_object(Bucket=s3crypt_bucket, Key="genuine", Body=SECRET)
    metadata: dict[str, str] = s3crypt_raw_client.head_object(Bucket=s3crypt_bucket, Key="genuine")["Metadata"]
    return metadata


@pytest.mark.parametrize(
    ("stored", "message"),
    [(SECRET, "is stored as its plaintext"), (b"prefix" + SECRET + b"suffix", "contain the plaintext")],
)
def test_assert_encrypted_refuses_plaintext_in_disguise(
    s3crypt_bucket: str, s3crypt_raw_client: Any, encrypted_metadata: dict[str, str], stored: bytes, message: str
) -> None:
    s3crypt_raw_client.put_object(Bucket=s3crypt_bucket, Key="k", Body=stored, Metadata=encrypted_metadata)
    assert_encrypted(s3crypt_raw_client, s3crypt_bucket, "k")  # the metadata alone looks right
    with pytest.raises(AssertionError, match=message):
        assert_encrypted(s3crypt_raw_client, s3crypt_bucket, "k", SECRET)


def test_assert_encrypted_does_not_search_for_short_plaintexts(
    s3crypt_bucket: str, s3crypt_raw_client: Any, encrypted_metadata: dict[str, str]
) -> None:
    """A few bytes may occur in any ciphertext by chance; only equality is checked below 16 bytes."""
    s3crypt_raw_client.put_object(Bucket=s3crypt_bucket, Key="k", Body=b"..abc..", Metadata=encrypted_metadata)
    assert_encrypted(s3crypt_raw_client, s3crypt_bucket, "k", b"abc")
    with pytest.raises(AssertionError, match="is stored as its plaintext"):
        assert_encrypted(s3crypt_raw_client, s3crypt_bucket, "k", b"..abc..")


def test_assert_encrypted_needs_a_plain_client(s3crypt_client: Any, s3crypt_bucket: str) -> None:
    with pytest.raises(TypeError, match="plain boto3 S3 client"):
        assert_encrypted(s3crypt_client, s3crypt_bucket, "k")


def test_the_fixture_is_the_helper(s3crypt_assert_encrypted: Any) -> None:
    assert s3crypt_assert_encrypted is assert_encrypted
