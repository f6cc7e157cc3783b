"""``s3crypt migrate``: V2 and plaintext objects become V3 in place, keeping what describes them; conditional
writes, --dryrun, the checkpoint and older versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import s3crypt
from s3crypt.cli import migrating
from tests.cli.support import run
from tests.cli.test_ls_rm_mv import put_vector
from tests.conftest import BUCKET, V2_OPTIONS
from tests.vectors.kms import fixed_kms_key

AWS_VECTORS = {"legacy-v1-cbc-kms": [], "kms-v2-metadata-context": ["purpose=vectors", "tenant=acme"]}
"""Objects as the AWS clients wrote them, with the context each keeps once migrated."""


@pytest.fixture
def mixed(s3: str, kms_key: str, keyring: Any, plain_s3: Any) -> dict[str, bytes]:
    """A prefix with a plaintext object (with headers, tags and SSE), V2 objects (one with an instruction file,
    each with its own context) and a V3 object; their plaintexts by key."""
    plain_s3.put_object(
        Bucket=BUCKET,
        Key="m/plain.txt",
        Body=b"plain text",
        Metadata={"owner": "ops"},
        ContentType="text/plain",
        CacheControl="max-age=60",
        Tagging="team=data&tier=gold",
        ServerSideEncryption="AES256",
    )
    v2 = s3crypt.client("s3", keyring=keyring, **V2_OPTIONS)
    v2.put_object(Bucket=BUCKET, Key="m/v2", Body=b"version two", EncryptionContext={"tenant": "a"})
    v2_file = s3crypt.client("s3", keyring=keyring, instruction_file=True, **V2_OPTIONS)
    v2_file.put_object(Bucket=BUCKET, Key="m/v2-file", Body=b"in a file", EncryptionContext={"tenant": "b"})
    s3crypt.client("s3", keyring=keyring).put_object(Bucket=BUCKET, Key="m/v3", Body=b"current")
    return {"m/plain.txt": b"plain text", "m/v2": b"version two", "m/v2-file": b"in a file", "m/v3": b"current"}


def formats(s3: str) -> dict[str, str]:
    listed = run("ls", "--recursive", "--json", f"{s3}/m/").out.splitlines()
    return {item["key"]: item["format"] for item in map(json.loads, listed)}


def test_migrate_brings_everything_to_v3(
    s3: str, mixed: dict[str, bytes], kms: Any, other_key: str, plain_s3: Any, tmp_path: Path
) -> None:
    outcome = run("migrate", "--use-stored-context", f"{s3}/m", "--kms-key-id", other_key)

    assert outcome.code == 0, outcome
    assert outcome.out.splitlines()[-1] == "migrated 3, unchanged 1, skipped 0, failed 0"
    assert f"migrate: {s3}/m/v2 (V2 to V3)" in outcome.out
    assert f"migrate: {s3}/m/plain.txt (plaintext to V3)" in outcome.out
    assert formats(s3) == dict.fromkeys(mixed, "V3")
    assert "m/v2-file.instruction" not in [item["Key"] for item in plain_s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    contexts = {"m/v2": ["tenant=a"], "m/v2-file": ["tenant=b"], "m/plain.txt": []}
    for key, context in contexts.items():
        options = [arg for entry in context for arg in ("--encryption-context", entry)]
        back = run("cp", f"{s3}/{key}", "-", "--kms-key-id", other_key, *options)
        assert (back.code, back.out.encode()) == (0, mixed[key]), back
    head = plain_s3.head_object(Bucket=BUCKET, Key="m/plain.txt")
    assert (head["Metadata"]["owner"], head["ContentType"], head["CacheControl"]) == ("ops", "text/plain", "max-age=60")
    assert head["ServerSideEncryption"] == "AES256"
    tags = plain_s3.get_object_tagging(Bucket=BUCKET, Key="m/plain.txt")["TagSet"]
    assert sorted((tag["Key"], tag["Value"]) for tag in tags) == [("team", "data"), ("tier", "gold")]


def test_migrate_checks_the_given_context(s3: str, mixed: dict[str, bytes], other_key: str) -> None:
    outcome = run(
        "migrate", "--skip-plaintext", f"{s3}/m", "--kms-key-id", other_key, "--encryption-context", "tenant=a"
    )

    assert outcome.code == 1
    assert outcome.out.splitlines()[-1] == "migrated 1, unchanged 1, skipped 1, failed 1"
    assert formats(s3) == {"m/plain.txt": "plain", "m/v2": "V3", "m/v2-file": "V2", "m/v3": "V3"}


def test_migrate_dryrun_changes_nothing(s3: str, mixed: dict[str, bytes], other_key: str) -> None:
    before = formats(s3)

    outcome = run("migrate", "--dryrun", "--use-stored-context", f"{s3}/m", "--kms-key-id", other_key)

    assert outcome.code == 0, outcome
    assert f"(dryrun) migrate: {s3}/m/v2 (V2 to V3, not done: --dryrun)" in outcome.out
    assert formats(s3) == before


def test_migrate_resumes_from_its_checkpoint(s3: str, mixed: dict[str, bytes], other_key: str, tmp_path: Path) -> None:
    checkpoint = tmp_path / "done"
    checkpoint.write_text("m/v2\n")

    outcome = run(
        "migrate", "--use-stored-context", "--checkpoint", str(checkpoint), f"{s3}/m", "--kms-key-id", other_key
    )

    assert outcome.code == 0, outcome
    assert outcome.err == "resume: 1 objects done in an earlier run\n"
    assert formats(s3)["m/v2"] == "V2"  # taken as done
    assert sorted(checkpoint.read_text().splitlines()) == sorted(mixed)


def test_an_object_changed_during_the_run_is_not_overwritten(
    s3: str, plain_s3: Any, other_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain_s3.put_object(Bucket=BUCKET, Key="m/racing", Body=b"first")
    read = migrating.Migrator._read

    def read_then_change(self: migrating.Migrator, url: Any, *args: Any) -> None:
        read(self, url, *args)
        plain_s3.put_object(Bucket=BUCKET, Key=url.key, Body=b"written meanwhile")

    monkeypatch.setattr(migrating.Migrator, "_read", read_then_change)

    outcome = run("migrate", f"{s3}/m", "--kms-key-id", other_key)

    assert outcome.code == 2, outcome
    assert f"skip: {s3}/m/racing (changed during the run; run migrate again)" in outcome.out
    assert plain_s3.get_object(Bucket=BUCKET, Key="m/racing")["Body"].read() == b"written meanwhile"


def test_older_plaintext_versions_are_reported(s3: str, plain_s3: Any, other_key: str) -> None:
    plain_s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    version = plain_s3.put_object(Bucket=BUCKET, Key="m/k", Body=b"plain")["VersionId"]

    reported = run("migrate", f"{s3}/m", "--kms-key-id", other_key)
    deleted = run("migrate", f"{s3}/m", "--kms-key-id", other_key, "--delete-old-versions")

    assert f"older version: {s3}/m/k?versionId={version} stays unmigrated" in reported.out
    assert deleted.code == 0, deleted
    assert f"delete: {s3}/m/k?versionId={version}" in deleted.out
    versions = plain_s3.list_object_versions(Bucket=BUCKET, Prefix="m/")["Versions"]
    assert [entry["VersionId"] == version for entry in versions] == [False]


def test_migrate_reads_what_the_aws_clients_wrote_v1_included(aws: None, plain_s3: Any, tmp_path: Path) -> None:
    with fixed_kms_key() as kms:
        new_key = kms.create_key()["KeyMetadata"]["KeyId"]
        plaintexts = {name: put_vector(plain_s3, name, f"m/{name}") for name in AWS_VECTORS}

        outcome = run("migrate", "--use-stored-context", f"s3://{BUCKET}/m", "--kms-key-id", new_key)

        assert outcome.code == 0, outcome
        assert f"migrate: s3://{BUCKET}/m/legacy-v1-cbc-kms (V1 to V3)" in outcome.out
        assert formats(f"s3://{BUCKET}") == dict.fromkeys((f"m/{name}" for name in AWS_VECTORS), "V3")
        for name, context in AWS_VECTORS.items():
            options = [arg for entry in context for arg in ("--encryption-context", entry)]
            back = run("cp", f"s3://{BUCKET}/m/{name}", "-", "--kms-key-id", new_key, *options)
            assert (back.code, back.out.encode()) == (0, plaintexts[name]), back


def test_ctrl_c_stops_the_run_and_the_checkpoint_keeps_what_was_done(
    s3: str, plain_s3: Any, other_key: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for number in range(20):
        plain_s3.put_object(Bucket=BUCKET, Key=f"m/{number:02}", Body=b"plain")
    migrate_one = migrating.Migrator.__call__
    started = []

    def interrupted_at_the_third(self: migrating.Migrator, url: Any) -> str:
        started.append(url.key)
        if len(started) == 3:
            raise KeyboardInterrupt
        return migrate_one(self, url)

    monkeypatch.setattr(migrating.Migrator, "__call__", interrupted_at_the_third)
    checkpoint = tmp_path / "done"

    outcome = run(
        "migrate", "--concurrency", "1", "--checkpoint", str(checkpoint), f"{s3}/m", "--kms-key-id", other_key
    )

    assert outcome.code == 130, outcome
    assert outcome.err.endswith("s3crypt: interrupted\n")
    assert len(started) < 20
    assert checkpoint.read_text().splitlines() == ["m/00", "m/01", *started[3:]]
