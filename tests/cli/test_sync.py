"""``s3crypt sync`` in process, against an in-process moto: both directions, --delete, filters and --dryrun."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from s3crypt.cli.syncing import Filters, filters_in
from tests.cli.support import make_tree, read_tree, run
from tests.conftest import BUCKET


def keys(plain_s3: Any, prefix: str = "") -> list[str]:
    return [item["Key"] for item in plain_s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


def sync(*args: str, key: str) -> list[str]:
    outcome = run("sync", *args, "--kms-key-id", key)
    assert outcome.code == 0, outcome
    return outcome.out.splitlines()


def test_sync_up_copies_what_differs_then_nothing(s3: str, kms_key: str, plain_s3: Any, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    files = make_tree(tree)

    first = sync(str(tree), f"{s3}/backup", key=kms_key)
    second = sync(str(tree), f"{s3}/backup", key=kms_key)
    (tree / "a.txt").write_bytes(b"a longer alpha\n")
    third = sync(str(tree), f"{s3}/backup", key=kms_key)

    assert len(first) == len(files)
    assert all(line.startswith("upload: ") for line in first)
    assert second == []
    assert third == [f"upload: {tree / 'a.txt'} to {s3}/backup/a.txt"]
    assert b"alpha" not in plain_s3.get_object(Bucket=BUCKET, Key="backup/a.txt")["Body"].read()


def test_sync_up_uploads_a_newer_file_of_the_same_size(s3: str, kms_key: str, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    make_tree(tree)
    sync(str(tree), f"{s3}/b", key=kms_key)
    later = os.stat(tree / "a.txt").st_mtime + 3600
    os.utime(tree / "a.txt", (later, later))

    assert sync(str(tree), f"{s3}/b", key=kms_key) == [f"upload: {tree / 'a.txt'} to {s3}/b/a.txt"]


def test_sync_down_and_back_copies_nothing_the_second_time(s3: str, kms_key: str, tmp_path: Path) -> None:
    files = make_tree(tmp_path / "tree")
    sync(str(tmp_path / "tree"), f"{s3}/b", key=kms_key)

    first = sync(f"{s3}/b", str(tmp_path / "copy"), key=kms_key)
    second = sync(f"{s3}/b", str(tmp_path / "copy"), key=kms_key)

    assert len(first) == len(files)
    assert second == []
    assert read_tree(tmp_path / "copy") == files


def test_sync_delete_both_ways(s3: str, kms_key: str, plain_s3: Any, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    make_tree(tree)
    sync(str(tree), f"{s3}/b", key=kms_key)
    sync(f"{s3}/b", str(tmp_path / "copy"), key=kms_key)
    (tree / "a.txt").unlink()

    without = sync(str(tree), f"{s3}/b", key=kms_key)
    up = sync("--delete", str(tree), f"{s3}/b", key=kms_key)
    down = sync("--delete", f"{s3}/b", str(tmp_path / "copy"), key=kms_key)

    assert without == []
    assert up == [f"delete: {s3}/b/a.txt"]
    assert "b/a.txt" not in keys(plain_s3)
    assert down == [f"delete: {tmp_path / 'copy' / 'a.txt'}"]
    assert not (tmp_path / "copy" / "a.txt").exists()


def test_sync_filters_in_order(s3: str, kms_key: str, plain_s3: Any, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    make_tree(tree)

    sync(str(tree), f"{s3}/b", "--exclude", "*", "--include", "sub/*.txt", "--exclude", "sub/deeper/*", key=kms_key)

    assert sorted(keys(plain_s3)) == ["b/sub/été.txt"]


def test_sync_dryrun_changes_nothing(s3: str, kms_key: str, plain_s3: Any, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    files = make_tree(tree)
    plain_s3.put_object(Bucket=BUCKET, Key="b/extra", Body=b"x")

    lines = sync("--dryrun", "--delete", str(tree), f"{s3}/b", key=kms_key)

    assert len(lines) == len(files) + 1
    assert lines[-1] == f"(dryrun) delete: {s3}/b/extra"
    assert all(line.startswith("(dryrun) ") for line in lines)
    assert keys(plain_s3) == ["b/extra"]


@pytest.mark.parametrize(
    ("args", "path", "included"),
    [
        ([], "a", True),
        (["--exclude", "*"], "a/b", False),
        (["--exclude", "*", "--include", "*.txt"], "a/b.txt", True),
        (["--include", "*.txt", "--exclude", "*"], "a/b.txt", False),
        (["--exclude=a/*"], "a/b", False),
        (["--exclude", "a/*", "--", "--include", "a/*"], "a/b", False),
    ],
)
def test_filters_follow_aws_s3_sync_rules(args: list[str], path: str, included: bool) -> None:
    assert filters_in(args).included(path) is included
    assert Filters().included(path)
