"""``s3crypt ls``, ``rm``, ``mv``, ``cp -`` and ``inspect --check`` in process, against an in-process moto."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import s3crypt
from tests.cli.support import Outcome, assert_failed, assert_usage_error, make_tree, read_tree, run
from tests.conftest import BUCKET

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


def put_vector(plain_s3: Any, name: str, key: str) -> bytes:
    """Store the golden vector ``name`` at ``key`` as an AWS client wrote it; its plaintext."""
    vector = json.loads((VECTORS / f"{name}.json").read_text())
    plain_s3.put_object(Bucket=BUCKET, Key=key, Body=base64.b64decode(vector["body"]), Metadata=vector["metadata"])
    if vector["instruction_file"]:
        plain_s3.put_object(Bucket=BUCKET, Key=f"{key}.instruction", Body=json.dumps(vector["instruction_file"]))
    return base64.b64decode(vector["plaintext"])


def upload(s3: str, kms_key: str, path: Path, key: str, *options: str) -> None:
    assert run("cp", str(path), f"{s3}/{key}", "--kms-key-id", kms_key, *options).code == 0


def keys(plain_s3: Any) -> list[str]:
    return [item["Key"] for item in plain_s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


# ls


def test_ls_shows_plaintext_sizes_and_formats(s3: str, kms_key: str, plain_s3: Any, tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x" * 100)
    upload(s3, kms_key, tmp_path / "f", "d/v3")
    upload(s3, kms_key, tmp_path / "f", "d/v2", "--format", "v2")
    plain_s3.put_object(Bucket=BUCKET, Key="d/plain", Body=b"y" * 7)
    v1 = put_vector(plain_s3, "legacy-v1-cbc-kms", "d/v1")
    v3_file = put_vector(plain_s3, "kms-v3-instruction-s3crypt", "d/sub/with-file")

    listed = [json.loads(line) for line in run("ls", "--recursive", "--json", f"{s3}/d/").out.splitlines()]

    described = {item["key"]: (item["size"], item["format"], item["wrapping_algorithm"]) for item in listed}
    assert described == {
        "d/plain": (7, "plain", None),
        "d/sub/with-file": (len(v3_file), "V3", "kms+context"),
        "d/v1": (len(v1), "V1", "kms"),
        "d/v2": (100, "V2", "kms+context"),
        "d/v3": (100, "V3", "kms+context"),
    }
    v1_item = next(item for item in listed if item["key"] == "d/v1")
    assert v1_item["key_id"]  # a V1 kms object names its key in its material description
    assert v1_item["stored_size"] > len(v1)


def test_ls_of_one_level_shows_folders_and_relative_names(s3: str, kms_key: str, tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"abc")
    upload(s3, kms_key, tmp_path / "f", "top/a.txt")
    upload(s3, kms_key, tmp_path / "f", "top/sub/b.txt")

    outcome = run("ls", f"{s3}/top/")
    long = run("ls", "--long", "--human-readable", f"{s3}/top/")

    assert outcome.code == 0, outcome
    lines = outcome.out.splitlines()
    assert lines[0].split() == ["PRE", "sub/"]
    assert lines[1].split()[2:] == ["3", "V3", "a.txt"]
    assert long.out.splitlines()[1].split()[2:] == ["3", "Bytes", "V3", "kms+context", "-", "a.txt"]


def test_ls_without_a_url_lists_the_buckets(s3: str) -> None:
    outcome = run("ls")
    assert outcome.code == 0
    assert outcome.out.split()[-1] == BUCKET


def test_ls_of_a_missing_bucket(aws: None) -> None:
    assert_failed(run("ls", "s3://no-such-bucket/"), "no such bucket: no-such-bucket")


# inspect


def test_inspect_of_an_aes_object_keeps_its_columns_apart(s3: str) -> None:
    keyring = s3crypt.AesKeyring(b"k" * 32, material_description={"env": "dev"})
    s3crypt.client("s3", keyring=keyring).put_object(Bucket=BUCKET, Key="k", Body=b"abc")

    lines = run("inspect", f"{s3}/k").out.splitlines()

    assert '  material description  {"env": "dev"}' in lines
    assert "  format                V3" in lines


def test_inspect_check_asks_kms_for_the_key_id(s3: str, kms_key: str, kms: Any, tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"abc")
    upload(s3, kms_key, tmp_path / "f", "k", "--encryption-context", "tenant=7")
    arn = kms.describe_key(KeyId=kms_key)["KeyMetadata"]["Arn"]

    plain = json.loads(run("inspect", "--json", f"{s3}/k").out)
    checked = json.loads(run("inspect", "--json", "--check", f"{s3}/k").out)

    assert plain["key_id"] is None  # V3 metadata does not name the key
    assert checked["key_id"] == arn
    assert f"  key id              {arn}" in run("inspect", "--check", f"{s3}/k").out.splitlines()


def test_inspect_check_of_an_aes_object_says_kms_is_not_involved(s3: str) -> None:
    s3crypt.client("s3", keyring=s3crypt.AesKeyring(b"k" * 32)).put_object(Bucket=BUCKET, Key="k", Body=b"abc")
    assert_failed(run("inspect", "--check", f"{s3}/k"), "is wrapped with AES/GCM")


# rm


def test_rm_deletes_the_object_and_its_instruction_file(s3: str, plain_s3: Any) -> None:
    put_vector(plain_s3, "kms-v3-instruction-s3crypt", "k")
    plain_s3.put_object(Bucket=BUCKET, Key="other", Body=b"x")

    outcome = run("rm", f"{s3}/k")

    assert outcome == Outcome(0, f"delete: {s3}/k\n", "")
    assert keys(plain_s3) == ["other"]


def test_rm_recursive_and_dryrun(s3: str, kms_key: str, plain_s3: Any, tmp_path: Path) -> None:
    make_tree(tmp_path / "tree")
    assert run("cp", "--recursive", str(tmp_path / "tree"), f"{s3}/t", "--kms-key-id", kms_key).code == 0
    put_vector(plain_s3, "kms-v2-instruction-s3crypt", "t/with-file")
    plain_s3.put_object(Bucket=BUCKET, Key="tx", Body=b"outside the folder")
    before = keys(plain_s3)

    dry = run("rm", "--recursive", "--dryrun", f"{s3}/t")
    assert dry.code == 0
    assert len(dry.out.splitlines()) == 6
    assert all(line.startswith(f"(dryrun) delete: {s3}/t/") for line in dry.out.splitlines())
    assert keys(plain_s3) == before

    assert run("rm", "--recursive", f"{s3}/t").code == 0
    assert keys(plain_s3) == ["tx"]


def test_rm_of_a_folder_needs_recursive(s3: str) -> None:
    assert_usage_error(run("rm", f"{s3}/t/"), "add --recursive")


# mv


def test_mv_up_and_down_removes_the_sources(s3: str, kms_key: str, plain_s3: Any, tmp_path: Path) -> None:
    files = make_tree(tmp_path / "tree")

    up = run("mv", "--recursive", str(tmp_path / "tree"), f"{s3}/t", "--kms-key-id", kms_key)
    assert up.code == 0, up
    assert up.out.startswith("move: ")
    assert read_tree(tmp_path / "tree") == {}
    assert len(keys(plain_s3)) == len(files)

    down = run("mv", "--recursive", f"{s3}/t", str(tmp_path / "back"), "--kms-key-id", kms_key)
    assert down.code == 0, down
    assert read_tree(tmp_path / "back") == files
    assert keys(plain_s3) == []


def test_mv_keeps_the_source_of_a_failed_copy(s3: str, kms_key: str, other_key: str, tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"abc")
    upload(s3, kms_key, tmp_path / "f", "k")

    assert_failed(run("mv", f"{s3}/k", str(tmp_path / "g"), "--kms-key-id", other_key), f"{s3}/k")
    assert run("ls", f"{s3}/k").out.split()[-1] == "k"


# cp -


def test_cp_from_stdin_and_to_stdout(s3: str, kms_key: str, plain_s3: Any) -> None:
    data = b"streamed \x00 bytes\n" * 1000

    up = run("cp", "-", f"{s3}/streamed", "--kms-key-id", kms_key, "--encryption-context", "a=1", stdin=data)
    down = run("cp", f"{s3}/streamed", "-", "--kms-key-id", kms_key, "--encryption-context", "a=1")

    assert (up.code, up.out, up.err) == (0, "", "")
    assert down.code == 0, down
    assert down.out.encode() == data
    assert data not in plain_s3.get_object(Bucket=BUCKET, Key="streamed")["Body"].read()


def test_cp_to_stdout_writes_nothing_when_the_context_is_wrong(s3: str, kms_key: str) -> None:
    assert run("cp", "-", f"{s3}/k", "--kms-key-id", kms_key, "--encryption-context", "a=1", stdin=b"secret").code == 0
    assert_failed(run("cp", f"{s3}/k", "-", "--kms-key-id", kms_key), "EncryptionContext")


def test_cp_dash_is_one_object(s3: str, kms_key: str) -> None:
    assert_usage_error(run("cp", "--recursive", "-", f"{s3}/k", "--kms-key-id", kms_key), "--recursive copies trees")
    assert_usage_error(run("cp", "-", f"{s3}/dir/", "--kms-key-id", kms_key), "names no object")
