"""``s3crypt rewrap --recursive``: each object's own context on request, several at a time, and older versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cli.support import assert_failed, run
from tests.conftest import BUCKET

TENANTS = [f"tenant-{number}" for number in range(6)]


def upload_per_tenant(s3: str, kms_key: str, tmp_path: Path) -> None:
    for tenant in TENANTS:
        (tmp_path / tenant).write_bytes(tenant.encode())
        context = ["--encryption-context", f"tenant={tenant}"]
        assert run("cp", str(tmp_path / tenant), f"{s3}/t/{tenant}", "--kms-key-id", kms_key, *context).code == 0


def test_one_context_for_all_fails_where_tenants_differ(s3: str, kms_key: str, other_key: str, tmp_path: Path) -> None:
    upload_per_tenant(s3, kms_key, tmp_path)

    outcome = run("rewrap", "--recursive", f"{s3}/t", "--kms-key-id", other_key, "--encryption-context", "tenant=x")

    assert outcome.code == 1
    assert outcome.out.splitlines()[-1] == f"rotated 0, skipped 0, failed {len(TENANTS)}"


def test_use_stored_context_rewraps_each_under_its_own(s3: str, kms_key: str, other_key: str, tmp_path: Path) -> None:
    upload_per_tenant(s3, kms_key, tmp_path)

    outcome = run(
        "rewrap", "--recursive", "--use-stored-context", "--concurrency", "3", f"{s3}/t", "--kms-key-id", other_key
    )

    assert outcome.code == 0, outcome
    assert sorted(outcome.out.splitlines()[:-1]) == [f"rewrap: {s3}/t/{tenant}" for tenant in TENANTS]
    assert outcome.out.splitlines()[-1] == f"rotated {len(TENANTS)}, skipped 0, failed 0"
    for tenant in TENANTS:
        context = ["--encryption-context", f"tenant={tenant}"]
        back = run("cp", f"{s3}/t/{tenant}", str(tmp_path / "back"), "--kms-key-id", other_key, *context)
        assert back.code == 0, back
        assert (tmp_path / "back").read_bytes() == tenant.encode()
        assert_failed(run("cp", f"{s3}/t/{tenant}", str(tmp_path / "old"), "--kms-key-id", kms_key, *context), "KMS")


def test_older_versions_are_reported_and_deleted_on_request(
    s3: str, kms_key: str, other_key: str, plain_s3: Any, tmp_path: Path
) -> None:
    plain_s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    (tmp_path / "f").write_bytes(b"versioned")
    assert run("cp", str(tmp_path / "f"), f"{s3}/v/f", "--kms-key-id", kms_key).code == 0
    first = plain_s3.head_object(Bucket=BUCKET, Key="v/f")["VersionId"]

    reported = run("rewrap", "--recursive", f"{s3}/v", "--kms-key-id", other_key)
    deleted = run("rewrap", "--recursive", f"{s3}/v", "--kms-key-id", kms_key, "--delete-old-versions")

    assert reported.code == 0, reported
    assert f"older version: {s3}/v/f?versionId={first} stays under the old key" in reported.out
    assert deleted.code == 0, deleted
    assert f"delete: {s3}/v/f?versionId={first}" in deleted.out
    versions = plain_s3.list_object_versions(Bucket=BUCKET, Prefix="v/")["Versions"]
    assert [version["IsLatest"] for version in versions] == [True]
