"""Key rotation in place: every keyring pair, both metadata strategies, failures that change nothing."""

from __future__ import annotations

import itertools
import os
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

import s3crypt
from s3crypt.testing import TEST_REGION
from tests.conftest import BUCKET

MIB = 1024 * 1024
RSA_PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEYRINGS = ["kms", "kms2", "aes", "rsa"]


@pytest.fixture
def keyrings(kms: Any, kms_key: str) -> dict[str, s3crypt.Keyring]:
    return {
        "kms": s3crypt.KmsKeyring(kms_key, kms_client=kms),
        "kms2": s3crypt.KmsKeyring(kms.create_key()["KeyMetadata"]["KeyId"], kms_client=kms),
        "aes": s3crypt.AesKeyring(os.urandom(32), {"generation": "1"}),
        "rsa": s3crypt.RsaKeyring(private_key=RSA_PRIVATE),
    }


def context_for(name: str) -> dict[str, str]:
    return {"tenant": name} if name.startswith("kms") else {}


def client_for(keyring: s3crypt.Keyring, **options: Any) -> Any:
    return s3crypt.client("s3", keyring=keyring, region_name=TEST_REGION, **options)


@pytest.mark.parametrize(("old", "new"), list(itertools.permutations(KEYRINGS, 2)))
@pytest.mark.parametrize("strategy", ["metadata", "instruction"])
def test_rotation_between_every_pair_of_keyrings(
    plain_s3: Any, keyrings: dict[str, s3crypt.Keyring], old: str, new: str, strategy: str
) -> None:
    body = os.urandom(1000)
    writer = client_for(keyrings[old])
    writer.put_object(
        Bucket=BUCKET, Key="k", Body=body, EncryptionContext=context_for(old), InstructionFile=strategy == "instruction"
    )
    before = plain_s3.get_object(Bucket=BUCKET, Key="k")
    ciphertext = before["Body"].read()

    writer.rewrap_object(
        Bucket=BUCKET,
        Key="k",
        new_keyring=keyrings[new],
        EncryptionContext=context_for(old),
        NewEncryptionContext=context_for(new),
    )
    after = plain_s3.get_object(Bucket=BUCKET, Key="k")
    assert after["Body"].read() == ciphertext  # the content never changed
    for name in ("x-amz-c", "x-amz-d", "x-amz-i"):  # nor its suite, commitment and message id
        assert after["Metadata"][name] == before["Metadata"][name]
    got = client_for(keyrings[new]).get_object(Bucket=BUCKET, Key="k", EncryptionContext=context_for(new))
    assert got["Body"].read() == body
    with pytest.raises(s3crypt.S3CryptError):
        client_for(keyrings[old]).get_object(Bucket=BUCKET, Key="k", EncryptionContext=context_for(old))


def test_rotation_keeps_what_describes_the_object(plain_s3: Any, keyrings: dict[str, s3crypt.Keyring]) -> None:
    writer = client_for(keyrings["kms"])
    writer.put_object(
        Bucket=BUCKET,
        Key="k",
        Body=b"described",
        Metadata={"owner": "alice"},
        ContentType="text/csv",
        CacheControl="max-age=60",
        StorageClass="STANDARD_IA",
        Tagging="team=blue",
    )
    writer.rewrap_object(Bucket=BUCKET, Key="k", new_keyring=keyrings["aes"])
    head = plain_s3.head_object(Bucket=BUCKET, Key="k")
    assert head["Metadata"]["owner"] == "alice"
    assert (head["ContentType"], head["CacheControl"], head["StorageClass"]) == (
        "text/csv",
        "max-age=60",
        "STANDARD_IA",
    )
    assert plain_s3.get_object_tagging(Bucket=BUCKET, Key="k")["TagSet"] == [{"Key": "team", "Value": "blue"}]
    assert client_for(keyrings["aes"]).get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"described"


def test_a_wrong_old_key_changes_nothing(plain_s3: Any, keyrings: dict[str, s3crypt.Keyring]) -> None:
    client_for(keyrings["kms"]).put_object(Bucket=BUCKET, Key="k", Body=b"x", EncryptionContext={"a": "1"})
    before = plain_s3.head_object(Bucket=BUCKET, Key="k")
    with pytest.raises(s3crypt.DecryptionError):
        client_for(keyrings["kms2"]).rewrap_object(
            Bucket=BUCKET, Key="k", new_keyring=keyrings["aes"], EncryptionContext={"a": "1"}
        )
    with pytest.raises(s3crypt.DecryptionError, match="EncryptionContext"):
        client_for(keyrings["kms"]).rewrap_object(Bucket=BUCKET, Key="k", new_keyring=keyrings["aes"])
    after = plain_s3.head_object(Bucket=BUCKET, Key="k")
    assert (after["ETag"], after["Metadata"], after["LastModified"]) == (
        before["ETag"],
        before["Metadata"],
        before["LastModified"],
    )


def test_instruction_file_rotation_to_a_new_suffix_keeps_the_old_file(
    plain_s3: Any, keyrings: dict[str, s3crypt.Keyring]
) -> None:
    old = client_for(keyrings["aes"])
    old.put_object(Bucket=BUCKET, Key="k", Body=b"two keys", InstructionFile=True)
    result = old.rewrap_object(Bucket=BUCKET, Key="k", new_keyring=keyrings["rsa"], NewInstructionFileSuffix=".v2")
    assert result == {"InstructionFileKey": "k.v2"}
    assert old.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"two keys"
    new = client_for(keyrings["rsa"])
    assert new.get_object(Bucket=BUCKET, Key="k", InstructionFileSuffix=".v2")["Body"].read() == b"two keys"


def test_the_next_rotation_reads_the_file_instruction_file_suffix_names(
    plain_s3: Any, keyrings: dict[str, s3crypt.Keyring]
) -> None:
    client_for(keyrings["aes"]).put_object(Bucket=BUCKET, Key="k", Body=b"three keys", InstructionFile=True)
    client_for(keyrings["aes"]).rewrap_object(
        Bucket=BUCKET, Key="k", new_keyring=keyrings["rsa"], NewInstructionFileSuffix=".v2"
    )
    result = client_for(keyrings["rsa"]).rewrap_object(
        Bucket=BUCKET, Key="k", new_keyring=keyrings["aes"], InstructionFileSuffix=".v2"
    )
    assert result == {"InstructionFileKey": "k.v2"}  # written over the file it read
    reader = client_for(keyrings["aes"])
    assert reader.get_object(Bucket=BUCKET, Key="k", InstructionFileSuffix=".v2")["Body"].read() == b"three keys"
    with pytest.raises(s3crypt.ConfigurationError, match="NewInstructionFileSuffix must be a non-empty string"):
        reader.rewrap_object(Bucket=BUCKET, Key="k", new_keyring=keyrings["rsa"], NewInstructionFileSuffix=5)


def test_rotation_on_a_versioned_bucket_makes_a_new_version(
    plain_s3: Any, keyrings: dict[str, s3crypt.Keyring]
) -> None:
    plain_s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    writer = client_for(keyrings["kms"])
    first = writer.put_object(Bucket=BUCKET, Key="k", Body=b"versioned")["VersionId"]
    second = writer.rewrap_object(Bucket=BUCKET, Key="k", new_keyring=keyrings["kms2"])["VersionId"]
    assert first != second
    versions = plain_s3.list_object_versions(Bucket=BUCKET, Prefix="k")["Versions"]
    assert len(versions) == 2
    assert client_for(keyrings["kms2"]).get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"versioned"
    assert writer.get_object(Bucket=BUCKET, Key="k", VersionId=first)["Body"].read() == b"versioned"


def test_large_objects_are_copied_in_parts(plain_s3: Any, keyrings: dict[str, s3crypt.Keyring]) -> None:
    body = os.urandom(12 * MIB)
    writer = client_for(keyrings["kms"])
    writer.put_object(Bucket=BUCKET, Key="big", Body=body, Metadata={"owner": "bob"}, Tagging="size=big")
    writer._s3crypt_rewrapper.rewrap_object(
        BUCKET, "big", keyrings["aes"], copy_part_size=5 * MIB, max_single_copy=5 * MIB
    )
    assert plain_s3.head_object(Bucket=BUCKET, Key="big")["ETag"].endswith('-3"')  # a multipart copy
    assert plain_s3.head_object(Bucket=BUCKET, Key="big")["Metadata"]["owner"] == "bob"
    assert plain_s3.get_object_tagging(Bucket=BUCKET, Key="big")["TagSet"] == [{"Key": "size", "Value": "big"}]
    assert client_for(keyrings["aes"]).get_object(Bucket=BUCKET, Key="big")["Body"].read() == body
    assert plain_s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_multipart_copy_keeps_tags_that_need_encoding(plain_s3: Any, keyrings: dict[str, s3crypt.Keyring]) -> None:
    writer = client_for(keyrings["kms"])
    writer.put_object(Bucket=BUCKET, Key="t", Body=os.urandom(6 * MIB))
    tags = [{"Key": "city name", "Value": "a+b c"}, {"Key": "k=v", "Value": "1"}]
    plain_s3.put_object_tagging(Bucket=BUCKET, Key="t", Tagging={"TagSet": tags})
    writer._s3crypt_rewrapper.rewrap_object(BUCKET, "t", keyrings["aes"], copy_part_size=5 * MIB, max_single_copy=MIB)
    assert plain_s3.get_object_tagging(Bucket=BUCKET, Key="t")["TagSet"] == tags


def test_a_kms_to_kms_rotation_keeps_the_context_unless_told_otherwise(
    plain_s3: Any, keyrings: dict[str, s3crypt.Keyring]
) -> None:
    writer = client_for(keyrings["kms"])
    writer.put_object(Bucket=BUCKET, Key="k", Body=b"kept", EncryptionContext={"tenant": "a"})
    writer.rewrap_object(Bucket=BUCKET, Key="k", new_keyring=keyrings["kms2"], EncryptionContext={"tenant": "a"})
    reader = client_for(keyrings["kms2"])
    assert reader.get_object(Bucket=BUCKET, Key="k", EncryptionContext={"tenant": "a"})["Body"].read() == b"kept"
