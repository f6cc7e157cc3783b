"""The ``s3crypt`` console script as a real subprocess against a moto_server: every command and error path.

Independent runs are started together (``run_many``) to keep the module fast.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

import s3crypt
from s3crypt import _demo as demo
from s3crypt.testing import TEST_CREDENTIALS, TEST_REGION
from tests.conftest import V2_OPTIONS

# The CLI's --endpoint-url sends S3 and KMS requests to one URL: one moto_server serves both.
pytestmark = [pytest.mark.integration, pytest.mark.moto_only]

_SCRIPT = Path(sys.executable).with_name("s3crypt")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "s3crypt.cli"]
TIMEOUT = 60
BIG = 2 * 1024 * 1024  # above the CLI's progress bar threshold
INTERRUPT_ON_FIRST_PROGRESS = textwrap.dedent(
    """
    import os, signal, sys
    from s3crypt import cli
    signal.signal(signal.SIGINT, signal.default_int_handler)  # a runner started in the background ignores SIGINT
    from s3crypt.cli import progress
    progress.Progress.update = lambda self, amount: os.kill(os.getpid(), signal.SIGINT)
    sys.exit(cli.main(sys.argv[1:]))
    """
)


def environment(changes: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """The test credentials and region and no AWS configuration files of the machine, with ``changes`` (None unsets)."""
    env: dict[str, str | None] = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": TEST_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": TEST_CREDENTIALS["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": TEST_REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        **(changes or {}),
    }
    return {name: value for name, value in env.items() if value is not None}


def run_many(
    runs: Sequence[Sequence[str]], env: Mapping[str, str | None] | None = None
) -> list[subprocess.CompletedProcess[str]]:
    """Start every command line at once and wait for them all."""
    processes = [
        subprocess.Popen(
            list(args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=environment(env),
        )
        for args in runs
    ]
    results = []
    for args, process in zip(runs, processes, strict=True):
        out, err = process.communicate(timeout=TIMEOUT)
        results.append(subprocess.CompletedProcess(list(args), process.returncode, out, err))
    return results


def s3crypt_cli(endpoint: str, *args: str) -> list[str]:
    return [*COMMAND, "--endpoint-url", endpoint, *args]


def run(endpoint: str, *args: str, env: Mapping[str, str | None] | None = None) -> subprocess.CompletedProcess[str]:
    return run_many([s3crypt_cli(endpoint, *args)], env)[0]


def assert_one_line_error(result: subprocess.CompletedProcess[str], message: str, code: int = 1) -> None:
    assert result.returncode == code, result
    assert result.stderr.startswith("s3crypt: error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def make_tree(root: Path) -> dict[str, bytes]:
    files = {
        "top.txt": b"top\n",
        "empty": b"",
        "nested/data.bin": os.urandom(70_000),
        "nested/deeper/leaf.txt": b"leaf",
        "nested/deeper/sp ace.txt": b"space",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return files


def read_tree(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}


@pytest.fixture
def other_key(http_kms: Any) -> str:
    key_id: str = http_kms.create_key()["KeyMetadata"]["KeyId"]
    return key_id


def test_cp_recursive_round_trip_with_a_profile(
    endpoint: str, bucket: str, http_key: str, http_plain: Any, tmp_path: Path
) -> None:
    files = make_tree(tmp_path / "tree")
    config = tmp_path / "config"
    config.write_text(f"[profile cli]\nregion = {TEST_REGION}\n")
    credentials = tmp_path / "credentials"
    credentials.write_text("[cli]\n" + "".join(f"{name} = {value}\n" for name, value in TEST_CREDENTIALS.items()))
    profile = {
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_DEFAULT_REGION": None,
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
    }
    common = ["--profile", "cli", "--endpoint-url", endpoint, "cp", "--recursive", "--kms-key-id", http_key]

    up = run_many([[*COMMAND, *common, str(tmp_path / "tree"), f"s3://{bucket}/backup"]], profile)[0]

    assert (up.returncode, up.stderr) == (0, ""), up.stderr
    assert sorted(up.stdout.splitlines()) == sorted(
        f"upload: {tmp_path / 'tree' / name} to s3://{bucket}/backup/{name}" for name in files
    )
    stored = http_plain.get_object(Bucket=bucket, Key="backup/top.txt")
    assert stored["Body"].read() != b"top\n"

    down = run_many([[*COMMAND, *common, f"s3://{bucket}/backup", str(tmp_path / "back")]], profile)[0]

    assert (down.returncode, down.stderr) == (0, ""), down.stderr
    assert read_tree(tmp_path / "back") == files


def test_inspect_rewrap_and_read_under_the_new_key(
    endpoint: str, bucket: str, http_s3c: Any, http_key: str, other_key: str, tmp_path: Path
) -> None:
    http_s3c.put_object(Bucket=bucket, Key="doc", Body=b"document", EncryptionContext={"tenant": "42"})
    inspected, rewrapped = run_many(
        [
            s3crypt_cli(endpoint, "inspect", "--json", f"s3://{bucket}/doc"),
            s3crypt_cli(
                endpoint, "rewrap", f"s3://{bucket}/doc", "--kms-key-id", other_key, "--encryption-context", "tenant=42"
            ),
        ]
    )

    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout) == {
        "url": f"s3://{bucket}/doc",
        "format": "V3",
        "suite": "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY",
        "wrapping_algorithm": "kms+context",
        "encryption_context": {"tenant": "42"},
        "material_description": None,
        "plaintext_size": 8,
        "stored_size": 24,
        "instruction_file": None,
        "key_id": None,
    }
    assert rewrapped.returncode == 0, rewrapped.stderr
    assert rewrapped.stdout.splitlines() == [
        f"rewrap: s3://{bucket}/doc",
        "rotated 1, skipped 0, failed 0",
    ]

    download = ["cp", f"s3://{bucket}/doc", str(tmp_path / "doc"), "--encryption-context", "tenant=42"]
    read = run(endpoint, *download, "--kms-key-id", other_key)

    assert read.returncode == 0, read.stderr
    assert (tmp_path / "doc").read_bytes() == b"document"


def test_error_paths(
    endpoint: str, bucket: str, http_s3c: Any, http_plain: Any, other_key: str, http_key: str, tmp_path: Path
) -> None:
    http_s3c.put_object(Bucket=bucket, Key="secret", Body=b"secret")
    http_s3c.put_object(Bucket=bucket, Key="tampered", Body=b"an honest sentence")
    stored = http_plain.get_object(Bucket=bucket, Key="tampered")
    body = bytearray(stored["Body"].read())
    body[0] ^= 1
    http_plain.put_object(Bucket=bucket, Key="tampered", Body=bytes(body), Metadata=stored["Metadata"])
    out = tmp_path / "out"
    out.mkdir()
    cases = {
        "no such bucket": (
            ["cp", "s3://no-such-bucket-cli/k", str(out / "k"), "--kms-key-id", http_key],
            "no such bucket: no-such-bucket-cli",
        ),
        "wrong key": (
            ["cp", f"s3://{bucket}/secret", str(out / "secret"), "--kms-key-id", other_key],
            "KMS could not decrypt the object's data key",
        ),
        "tampered object": (
            ["cp", f"s3://{bucket}/tampered", str(out / "tampered"), "--kms-key-id", http_key],
            f"s3://{bucket}/tampered: the object failed authentication",
        ),
        "bad option": (["cp", "--no-such-option", "a", "b"], "No such option"),
        "usage": (["rm", f"s3://{bucket}/folder/"], "add --recursive"),
    }
    usage_errors = {"bad option", "usage"}

    results = run_many([s3crypt_cli(endpoint, *args) for args, _ in cases.values()])

    for (name, (_, message)), result in zip(cases.items(), results, strict=True):
        assert result.stdout == "", name
        assert_one_line_error(result, message, 252 if name in usage_errors else 1)
    assert list(out.iterdir()) == []


def test_progress_bar_only_on_a_terminal(endpoint: str, bucket: str, http_key: str, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(BIG))
    piped = run(endpoint, "cp", str(big), f"s3://{bucket}/big.bin", "--kms-key-id", http_key)
    assert (piped.returncode, piped.stderr) == (0, "")
    if shutil.which("script") is None or not sys.platform.startswith("linux"):
        pytest.skip("needs util-linux script(1); the terminal case is covered by the decision function's tests")
    download = s3crypt_cli(
        endpoint, "cp", f"s3://{bucket}/big.bin", str(tmp_path / "back.bin"), "--kms-key-id", http_key
    )

    on_terminal = run_many([["script", "-qec", shlex.join(download), os.devnull]])[0]

    assert on_terminal.returncode == 0, on_terminal.stdout
    assert "download 1 file:" in on_terminal.stdout
    assert "/2.00M [" in on_terminal.stdout  # bytes done of the total, then the time and speed
    assert "B/s]" in on_terminal.stdout
    assert f"download: s3://{bucket}/big.bin to {tmp_path / 'back.bin'}" in on_terminal.stdout
    assert (tmp_path / "back.bin").read_bytes() == big.read_bytes()


def test_ctrl_c_exits_130_and_leaves_no_file(
    endpoint: str, bucket: str, http_s3c: Any, http_key: str, tmp_path: Path
) -> None:
    http_s3c.put_object(Bucket=bucket, Key="k", Body=b"x" * 200_000)
    (tmp_path / "out").mkdir()
    download = ["cp", f"s3://{bucket}/k", str(tmp_path / "out" / "k"), "--kms-key-id", http_key]

    result = run_many([[sys.executable, "-c", INTERRUPT_ON_FIRST_PROGRESS, "--endpoint-url", endpoint, *download]])[0]

    assert result.returncode == 130, result.stderr
    assert result.stderr.strip() == "s3crypt: interrupted"
    assert list((tmp_path / "out").iterdir()) == []


def test_stdin_to_stdout_through_s3(endpoint: str, bucket: str, http_key: str, http_plain: Any) -> None:
    data = os.urandom(100_000)
    context = ["--kms-key-id", http_key, "--encryption-context", "a=1"]

    up = subprocess.run(
        s3crypt_cli(endpoint, "cp", "-", f"s3://{bucket}/piped", *context),
        input=data,
        capture_output=True,
        env=environment(),
        timeout=TIMEOUT,
        check=False,
    )
    down = subprocess.run(
        s3crypt_cli(endpoint, "cp", f"s3://{bucket}/piped", "-", *context),
        capture_output=True,
        env=environment(),
        timeout=TIMEOUT,
        check=False,
    )

    assert (up.returncode, up.stdout, up.stderr) == (0, b"", b"")
    assert (down.returncode, down.stderr) == (0, b"")
    assert down.stdout == data
    assert http_plain.get_object(Bucket=bucket, Key="piped")["Body"].read() != data


def test_sync_ls_mv_rm(endpoint: str, bucket: str, http_key: str, http_plain: Any, tmp_path: Path) -> None:
    files = make_tree(tmp_path / "tree")
    http_plain.put_object(Bucket=bucket, Key="backup/plain.txt", Body=b"plain")
    key = ["--kms-key-id", http_key]

    synced = run(endpoint, "sync", "--exclude", "*.bin", str(tmp_path / "tree"), f"s3://{bucket}/backup", *key)
    listed = run(endpoint, "ls", "--recursive", "--json", f"s3://{bucket}/backup")
    moved = run(endpoint, "mv", f"s3://{bucket}/backup/top.txt", str(tmp_path / "top.txt"), *key)
    removed = run(endpoint, "rm", "--recursive", f"s3://{bucket}/backup")

    assert (synced.returncode, synced.stderr) == (0, ""), synced.stderr
    assert len(synced.stdout.splitlines()) == len(files) - 1
    assert listed.returncode == 0, listed.stderr
    formats = {item["key"]: (item["format"], item["size"]) for item in map(json.loads, listed.stdout.splitlines())}
    expected = {f"backup/{name}": ("V3", len(data)) for name, data in files.items() if not name.endswith(".bin")}
    assert formats == {**expected, "backup/plain.txt": ("plain", 5)}
    assert moved.returncode == 0, moved.stderr
    assert (tmp_path / "top.txt").read_bytes() == files["top.txt"]
    assert removed.returncode == 0, removed.stderr
    assert len(removed.stdout.splitlines()) == len(files) - 1
    assert http_plain.list_objects_v2(Bucket=bucket).get("Contents", []) == []


def test_migrate_then_rewrap_per_tenant(
    endpoint: str,
    bucket: str,
    connection: dict[str, Any],
    http_kms: Any,
    http_key: str,
    other_key: str,
    http_plain: Any,
) -> None:
    keyring = s3crypt.KmsKeyring(http_key, kms_client=http_kms)
    v2 = s3crypt.client("s3", keyring=keyring, **connection, **V2_OPTIONS)
    for tenant in ("a", "b"):
        v2.put_object(Bucket=bucket, Key=f"t/{tenant}", Body=tenant.encode(), EncryptionContext={"tenant": tenant})
    http_plain.put_object(Bucket=bucket, Key="t/plain", Body=b"plain")

    migrated = run(endpoint, "migrate", "--use-stored-context", f"s3://{bucket}/t", "--kms-key-id", http_key)
    rewrapped = run(
        endpoint, "rewrap", "--recursive", "--use-stored-context", f"s3://{bucket}/t", "--kms-key-id", other_key
    )
    listed = run(endpoint, "ls", "--json", f"s3://{bucket}/t/")

    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.splitlines()[-1] == "migrated 3, skipped 0, failed 0"
    assert rewrapped.returncode == 0, rewrapped.stderr
    assert rewrapped.stdout.splitlines()[-1] == "rotated 3, skipped 0, failed 0"
    assert {item["key"]: item["format"] for item in map(json.loads, listed.stdout.splitlines())} == {
        "t/a": "V3",
        "t/b": "V3",
        "t/plain": "V3",
    }
    back = run(endpoint, "cp", f"s3://{bucket}/t/b", "-", "--kms-key-id", other_key, "--encryption-context", "tenant=b")
    assert (back.returncode, back.stdout) == (0, "b")


def test_demo() -> None:
    result = run_many([[*COMMAND, "demo"]])[0]

    assert result.returncode == 0, result.stderr
    decrypted = [line for line in result.stdout.splitlines() if "Body (decrypted)" in line]
    assert decrypted == [f"  {'Body (decrypted)':<20}{demo.PLAINTEXT!r}"]
    flat = " ".join(result.stdout.split())  # the error message is wrapped over several lines
    assert "DecryptionError the EncryptionContext does not match the one the object was written with" in flat
    assert result.stdout.endswith("moto_server stopped.\n")
