"""The least-privilege policies of docs/iam.md, given to IAM users of a moto_server that enforces IAM, and the
``s3crypt`` command run as each user: each job's commands succeed, the others' are refused.

moto checks S3 actions against the bucket and object ARNs, but KMS actions only against the resource ``*``: the
policies' KMS ``Resource`` is replaced with ``*`` here (docs/iam.md says so).
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from s3crypt.testing import TEST_CREDENTIALS, TEST_REGION, moto_server
from tests.integration.test_cli_subprocess import COMMAND, TIMEOUT, environment

pytestmark = pytest.mark.integration

DOC = Path(__file__).resolve().parents[2] / "docs" / "iam.md"
BUCKET = "iam-checked-bucket"
JOBS = ("Writer", "Reader", "Rotator", "Migrator")


def policies() -> dict[str, dict[str, Any]]:
    """The JSON policy under each job's heading of docs/iam.md, for this test's bucket and for moto."""
    text = DOC.read_text()
    found = {}
    for job in JOBS:
        section = text.split(f"## {job}\n", 1)[1]
        block = re.search(r"```json\n(.*?)```", section, re.DOTALL)
        assert block is not None, job
        policy = json.loads(block.group(1).replace("amzn-s3-demo-bucket", BUCKET))
        for statement in policy["Statement"]:
            actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            if all(action.startswith("kms:") for action in actions):
                statement["Resource"] = "*"
        found[job.lower()] = policy
    return found


@pytest.fixture(scope="module")
def enforcing() -> Iterator[tuple[str, dict[str, dict[str, str]], dict[str, str]]]:
    """A moto_server with the bucket, an old and a new KMS key and one IAM user a job, enforcing IAM from then on;
    its endpoint, each user's environment and the keys."""
    with moto_server() as endpoint:
        aws = {"endpoint_url": endpoint, "region_name": TEST_REGION, **TEST_CREDENTIALS}
        boto3.client("s3", **aws).create_bucket(Bucket=BUCKET)
        kms = boto3.client("kms", **aws)
        keys = {name: kms.create_key()["KeyMetadata"]["KeyId"] for name in ("old", "new")}
        iam = boto3.client("iam", **aws)
        users = {}
        for job, policy in policies().items():
            iam.create_user(UserName=job)
            iam.put_user_policy(UserName=job, PolicyName=job, PolicyDocument=json.dumps(policy))
            key = iam.create_access_key(UserName=job)["AccessKey"]
            users[job] = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
        boto3.client("s3", **aws).put_object(Bucket=BUCKET, Key="reports/plain.csv", Body=b"plain,csv\n")
        request = urllib.request.Request(
            f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}
        )
        with urllib.request.urlopen(request, timeout=10):
            pass
        yield endpoint, users, keys


def as_user(setup: tuple[str, dict[str, dict[str, str]], dict[str, str]], job: str, *args: str) -> Any:
    endpoint, users, _ = setup
    return subprocess.run(
        [*COMMAND, "--endpoint-url", endpoint, *args],
        capture_output=True,
        text=True,
        env=environment(users[job]),
        timeout=TIMEOUT,
        check=False,
    )


def test_each_job_can_do_its_work_and_no_more(
    enforcing: tuple[str, dict[str, dict[str, str]], dict[str, str]], tmp_path: Path
) -> None:
    _, _, keys = enforcing
    report = tmp_path / "q1.csv"
    report.write_bytes(b"quarter,revenue\n")
    url = f"s3://{BUCKET}/reports/q1.csv"

    written = as_user(enforcing, "writer", "cp", str(report), url, "--kms-key-id", keys["old"])
    synced = as_user(enforcing, "writer", "sync", str(tmp_path), f"s3://{BUCKET}/reports", "--kms-key-id", keys["old"])
    writer_reads = as_user(enforcing, "writer", "cp", url, "-", "--kms-key-id", keys["old"])
    read = as_user(enforcing, "reader", "cp", url, "-", "--kms-key-id", keys["old"])
    listed = as_user(enforcing, "reader", "ls", "--recursive", f"s3://{BUCKET}/reports/")
    reader_writes = as_user(enforcing, "reader", "cp", str(report), url, "--kms-key-id", keys["old"])
    outside = as_user(enforcing, "reader", "ls", f"s3://{BUCKET}/elsewhere/")

    assert (written.returncode, synced.returncode) == (0, 0), (written.stderr, synced.stderr)
    assert writer_reads.returncode == 1
    assert "AccessDenied" in writer_reads.stderr or "not authorized" in writer_reads.stderr, writer_reads.stderr
    assert (read.returncode, read.stdout) == (0, "quarter,revenue\n"), read.stderr
    assert listed.returncode == 0, listed.stderr
    assert reader_writes.returncode == 1
    assert "AccessDenied" in reader_writes.stderr, reader_writes.stderr
    assert outside.returncode == 0, outside.stderr  # ListBucket is on the bucket: moto checks no s3:prefix


def test_rotator_and_migrator(enforcing: tuple[str, dict[str, dict[str, str]], dict[str, str]], tmp_path: Path) -> None:
    _, _, keys = enforcing
    (tmp_path / "r.csv").write_bytes(b"rotate me\n")
    url = f"s3://{BUCKET}/reports/rotated/r.csv"
    assert as_user(enforcing, "writer", "cp", str(tmp_path / "r.csv"), url, "--kms-key-id", keys["old"]).returncode == 0

    rotated = as_user(enforcing, "rotator", "rewrap", url, "--kms-key-id", keys["new"])
    rotator_migrates = as_user(enforcing, "rotator", "migrate", f"s3://{BUCKET}/reports", "--kms-key-id", keys["new"])
    migrated = as_user(enforcing, "migrator", "migrate", f"s3://{BUCKET}/reports", "--kms-key-id", keys["new"])
    read = as_user(enforcing, "reader", "cp", f"s3://{BUCKET}/reports/plain.csv", "-", "--kms-key-id", keys["new"])

    assert rotated.returncode == 0, rotated.stderr
    assert rotator_migrates.returncode == 1, rotator_migrates.stdout
    assert "AccessDenied" in rotator_migrates.stderr, rotator_migrates.stderr
    assert migrated.returncode == 0, (migrated.stdout, migrated.stderr)
    assert f"migrate: s3://{BUCKET}/reports/plain.csv (plaintext to V3)" in migrated.stdout
    assert (read.returncode, read.stdout) == (0, "plain,csv\n"), read.stderr


def test_the_policies_are_read_from_the_doc() -> None:
    found = policies()
    assert sorted(found) == sorted(job.lower() for job in JOBS)
    assert "kms:Decrypt" not in json.dumps(found["writer"])
    assert "s3:PutObject" not in json.dumps(found["reader"])
