"""The ``s3crypt`` command line in process: click's CliRunner against an in-process moto.

``cli.main`` is called inside the runner's isolation, so exit codes and the one-line error messages are those
of the console script. The same commands, ``s3crypt demo`` included, run as real subprocesses against a
moto_server in ``tests/integration/test_cli_subprocess.py``.
"""

from __future__ import annotations

import base64
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

import s3crypt
from s3crypt import _demo as demo
from s3crypt import cli
from s3crypt.cli import errors
from s3crypt.cli import progress as cli_progress
from tests.cli.support import Outcome, assert_failed, assert_usage_error, make_tree, read_tree, run
from tests.conftest import BUCKET

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
CONTEXT_MISMATCH = "the EncryptionContext does not match the one the object was written with"
BIG = 2 * cli_progress.PROGRESS_MIN_BYTES


# cp


def test_cp_uploads_encrypted_and_downloads_the_plaintext(s3: str, kms_key: str, plain_s3: Any, tmp_path: Path) -> None:
    source = tmp_path / "report.txt"
    source.write_bytes(b"quarterly numbers")

    up = run("cp", str(source), f"{s3}/reports/", "--kms-key-id", kms_key, "--encryption-context", "team=finance")

    assert up == Outcome(0, f"upload: {source} to {s3}/reports/report.txt\n", "")
    stored = plain_s3.get_object(Bucket=BUCKET, Key="reports/report.txt")
    assert stored["Body"].read() != b"quarterly numbers"
    assert "x-amz-3" in stored["Metadata"]

    target = tmp_path / "out" / "copy.txt"
    down = run(
        "cp", f"{s3}/reports/report.txt", str(target), "--kms-key-id", kms_key, "--encryption-context", "team=finance"
    )

    assert down == Outcome(0, f"download: {s3}/reports/report.txt to {target}\n", "")
    assert target.read_bytes() == b"quarterly numbers"


def test_cp_downloads_into_a_directory_under_the_key_name(s3: str, kms_key: str, tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_bytes(b"a")
    assert run("cp", str(source), f"{s3}/dir/a.txt", "--kms-key-id", kms_key).code == 0

    assert run("cp", f"{s3}/dir/a.txt", str(tmp_path / "into") + "/", "--kms-discovery").code == 0
    assert (tmp_path / "into" / "a.txt").read_bytes() == b"a"


def test_cp_recursive_round_trip_of_a_tree(s3: str, kms_key: str, plain_s3: Any, tmp_path: Path) -> None:
    files = make_tree(tmp_path / "tree")

    up = run("cp", "--recursive", str(tmp_path / "tree"), f"{s3}/backup", "--kms-key-id", kms_key)

    assert up.code == 0, up
    assert up.out.count("upload: ") == len(files)
    listed = plain_s3.list_objects_v2(Bucket=BUCKET, Prefix="backup/")["Contents"]
    assert sorted(item["Key"] for item in listed) == sorted(f"backup/{name}" for name in files)

    down = run("cp", "--recursive", f"{s3}/backup/", str(tmp_path / "back"), "--kms-key-id", kms_key)

    assert down.code == 0, down
    assert read_tree(tmp_path / "back") == files


def test_cp_v2_format_is_written_and_read(s3: str, kms_key: str, tmp_path: Path) -> None:
    source = tmp_path / "v2.txt"
    source.write_bytes(b"for old readers")

    assert run("cp", str(source), f"{s3}/v2.txt", "--kms-key-id", kms_key, "--format", "v2").code == 0

    assert json.loads(run("inspect", "--json", f"{s3}/v2.txt").out)["format"] == "V2"
    assert run("cp", f"{s3}/v2.txt", str(tmp_path / "back.txt"), "--kms-key-id", kms_key).code == 0
    assert (tmp_path / "back.txt").read_bytes() == b"for old readers"


def test_cp_recursive_skips_instruction_files(s3: str, kms_key: str, keyring: Any, tmp_path: Path) -> None:
    client = s3crypt.client("s3", keyring=keyring)
    client.put_object(Bucket=BUCKET, Key="p/k", Body=b"kept apart", InstructionFile=True)

    outcome = run("cp", "--recursive", f"{s3}/p", str(tmp_path / "out"), "--kms-key-id", kms_key)

    assert outcome.code == 0, outcome
    assert read_tree(tmp_path / "out") == {"k": b"kept apart"}


def test_cp_recursive_refuses_a_key_that_escapes_the_directory(
    s3: str, kms_key: str, plain_s3: Any, tmp_path: Path
) -> None:
    plain_s3.put_object(Bucket=BUCKET, Key="p/../evil", Body=b"x")

    outcome = run("cp", "--recursive", f"{s3}/p", str(tmp_path / "out"), "--kms-key-id", kms_key)

    assert_failed(outcome, "refusing to download the key '../evil'")
    assert not (tmp_path / "evil").exists()


def test_cp_recursive_reports_each_failure_and_goes_on(s3: str, kms_key: str, plain_s3: Any, tmp_path: Path) -> None:
    make_tree(tmp_path / "tree")
    assert run("cp", "--recursive", str(tmp_path / "tree"), f"{s3}/t", "--kms-key-id", kms_key).code == 0
    plain_s3.put_object(Bucket=BUCKET, Key="t/plain.txt", Body=b"not encrypted")

    outcome = run("cp", "--recursive", f"{s3}/t", str(tmp_path / "back"), "--kms-key-id", kms_key)

    assert outcome.code == 1
    assert outcome.out.count("download: ") == 5
    failure, summary = outcome.err.splitlines()
    assert failure.startswith(f"s3crypt: failed: {s3}/t/plain.txt: the object has no client-side encryption metadata")
    assert summary == "s3crypt: error: 1 of 6 transfers failed"
    assert not (tmp_path / "back" / "plain.txt").exists()


# cp: error paths


def test_cp_from_a_missing_bucket(aws: None, kms_key: str, tmp_path: Path) -> None:
    assert_failed(run("cp", "s3://no-such-bucket/k", str(tmp_path / "k"), "--kms-key-id", kms_key), "no such bucket")


def test_cp_to_a_missing_bucket(aws: None, kms_key: str, tmp_path: Path) -> None:
    source = tmp_path / "f"
    source.write_bytes(b"f")
    outcome = run("cp", str(source), "s3://no-such-bucket/f", "--kms-key-id", kms_key)
    assert_failed(outcome, "s3://no-such-bucket/f: no such bucket: no-such-bucket")


def test_cp_of_a_missing_object(s3: str, kms_key: str, tmp_path: Path) -> None:
    assert_failed(run("cp", f"{s3}/nothing", str(tmp_path), "--kms-key-id", kms_key), f"no such object: {s3}/nothing")


def test_cp_of_a_missing_file(s3: str, kms_key: str, tmp_path: Path) -> None:
    assert_failed(run("cp", str(tmp_path / "nope"), f"{s3}/k", "--kms-key-id", kms_key), "no such file")


def test_cp_with_the_wrong_key_writes_nothing(s3: str, kms_key: str, other_key: str, tmp_path: Path) -> None:
    source = tmp_path / "f"
    source.write_bytes(b"secret")
    assert run("cp", str(source), f"{s3}/f", "--kms-key-id", kms_key).code == 0

    outcome = run("cp", f"{s3}/f", str(tmp_path / "out" / "f"), "--kms-key-id", other_key)

    assert_failed(outcome, "KMS could not decrypt the object's data key")
    assert list((tmp_path / "out").iterdir()) == []


def test_cp_with_the_wrong_context(s3: str, kms_key: str, tmp_path: Path) -> None:
    source = tmp_path / "f"
    source.write_bytes(b"secret")
    assert run("cp", str(source), f"{s3}/f", "--kms-key-id", kms_key, "--encryption-context", "a=1").code == 0

    outcome = run("cp", f"{s3}/f", str(tmp_path / "g"), "--kms-key-id", kms_key, "--encryption-context", "a=2")

    assert_failed(outcome, CONTEXT_MISMATCH)
    assert not (tmp_path / "g").exists()


def test_cp_of_a_tampered_object_leaves_no_file(s3: str, kms_key: str, plain_s3: Any, tmp_path: Path) -> None:
    source = tmp_path / "f"
    source.write_bytes(b"a sentence worth protecting")
    assert run("cp", str(source), f"{s3}/f", "--kms-key-id", kms_key).code == 0
    stored = plain_s3.get_object(Bucket=BUCKET, Key="f")
    body = bytearray(stored["Body"].read())
    body[3] ^= 1
    plain_s3.put_object(Bucket=BUCKET, Key="f", Body=bytes(body), Metadata=stored["Metadata"])

    outcome = run("cp", f"{s3}/f", str(tmp_path / "out" / "f"), "--kms-key-id", kms_key)

    assert_failed(outcome, f"{s3}/f: the object failed authentication")
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cp", "--bogus", "a", "s3://b/k"], "No such option"),
        (["cp", "a"], "Missing argument 'DESTINATION'"),
        (["cp", "a", "s3://b/k", "--format", "v4"], "Invalid value for '--format'"),
        (["cp", "a", "s3://b/k", "--encryption-context", "novalue"], "'novalue' is not KEY=VALUE"),
        (["cp", "a", "s3://b/k", "--encryption-context", "a=1", "--encryption-context", "a=2"], "given twice"),
        (["cp", "a", "b"], "exactly one of SOURCE and DESTINATION is s3://"),
        (["cp", "s3://b/k", "s3://b/l"], "exactly one of SOURCE and DESTINATION is s3://"),
        (["cp", "a", "s3://b/k"], "uploading needs --kms-key-id"),
        (["cp", "a", "s3://b/k", "--kms-discovery"], "uploading needs --kms-key-id"),
        (["cp", "s3://b/k", "a"], "decrypting needs --kms-key-id"),
        (["cp", "s3://b/k", "a", "--kms-key-id", "k", "--kms-discovery"], "not both"),
        (["cp", "s3:///k", "a", "--kms-discovery"], "names no bucket"),
        (["cp", "s3://b/dir/", "a", "--kms-discovery"], "names no object; add --recursive"),
        (["rewrap", "s3://b/k"], "Missing option '--kms-key-id'"),
        (["inspect"], "Missing argument 'URL'"),
        (["inspect", "b/k"], "'b/k' is not an s3:// URL"),
        (["frobnicate"], "No such command 'frobnicate'"),
        (["--debug"], "Missing command"),
    ],
)
def test_bad_usage_is_one_line_and_exit_252(aws: None, args: list[str], message: str) -> None:
    assert_usage_error(run(*args), message)


def test_a_directory_needs_recursive(s3: str, kms_key: str, tmp_path: Path) -> None:
    assert_usage_error(run("cp", str(tmp_path), f"{s3}/d", "--kms-key-id", kms_key), "add --recursive")
    assert_usage_error(
        run("cp", "--recursive", str(tmp_path / "x"), f"{s3}/d", "--kms-key-id", kms_key), "not a directory"
    )


def test_debug_shows_the_traceback(aws: None, kms_key: str, tmp_path: Path) -> None:
    outcome = run("--debug", "cp", "s3://no-such-bucket/k", str(tmp_path / "k"), "--kms-key-id", kms_key)

    assert outcome.code == 1
    assert outcome.err.startswith("Traceback (most recent call last):")
    assert outcome.err.splitlines()[-1] == "s3crypt: error: no such bucket: no-such-bucket"


def test_an_unknown_profile_is_one_line(aws: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    assert_failed(run("--profile", "nobody", "inspect", "s3://b/k"), "The config profile (nobody) could not be found")


# Ctrl-C


def test_an_interrupted_download_exits_130_and_leaves_no_file(
    s3: str, kms_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "f"
    source.write_bytes(b"x" * 300_000)
    assert run("cp", str(source), f"{s3}/f", "--kms-key-id", kms_key).code == 0

    def interrupt(self: cli_progress.Progress, amount: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_progress.Progress, "update", interrupt)
    (tmp_path / "out").mkdir()

    outcome = run("cp", f"{s3}/f", str(tmp_path / "out" / "f"), "--kms-key-id", kms_key)

    assert outcome.code == errors.EXIT_INTERRUPTED
    assert outcome.err.strip() == "s3crypt: interrupted"
    assert list((tmp_path / "out").iterdir()) == []


# progress


def test_no_progress_bar_when_stderr_is_not_a_terminal(s3: str, kms_key: str, tmp_path: Path) -> None:
    source = tmp_path / "big"
    source.write_bytes(b"\0" * BIG)

    up = run("cp", str(source), f"{s3}/big", "--kms-key-id", kms_key)
    down = run("cp", f"{s3}/big", str(tmp_path / "back"), "--kms-key-id", kms_key)

    assert (up.code, up.err, down.code, down.err) == (0, "", 0, "")
    assert (tmp_path / "back").read_bytes() == source.read_bytes()


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        return True


@pytest.mark.parametrize(
    ("stream", "total", "wanted"),
    [
        (FakeTerminal(), cli_progress.PROGRESS_MIN_BYTES, True),
        (FakeTerminal(), cli_progress.PROGRESS_MIN_BYTES - 1, False),
        (io.StringIO(), BIG, False),
        (object(), BIG, False),
    ],
)
def test_progress_wanted_only_on_a_terminal_for_long_work(stream: Any, total: int, wanted: bool) -> None:
    assert cli_progress.progress_wanted(stream, total, cli_progress.PROGRESS_MIN_BYTES) is wanted


def test_progress_wanted_on_a_closed_stream() -> None:
    stream = FakeTerminal()
    stream.close()
    assert cli_progress.progress_wanted(stream, BIG, 1) is False


def test_the_bar_is_not_drawn_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)

    with cli_progress.Progress(BIG, "upload 1 file") as progress:
        progress.update(BIG)

    assert not progress.shown
    assert stream.getvalue() == ""


# inspect


def test_inspect_describes_a_v3_object(s3: str, kms_key: str, tmp_path: Path) -> None:
    source = tmp_path / "f"
    source.write_bytes(b"0123456789")
    assert run("cp", str(source), f"{s3}/f", "--kms-key-id", kms_key, "--encryption-context", "team=docs").code == 0

    outcome = run("inspect", f"{s3}/f")

    assert outcome.code == 0
    assert outcome.out.splitlines() == [
        f"{s3}/f",
        "  format              V3",
        "  suite               ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY (0x0073)",
        "  wrapping            kms+context",
        '  encryption context  {"team": "docs"}',
        "  plaintext size      10 bytes",
        "  stored size         26 bytes",
        "  instruction file    none",
    ]


def test_inspect_json_of_an_object_with_an_instruction_file(s3: str, keyring: Any) -> None:
    client = s3crypt.client("s3", keyring=keyring)
    client.put_object(Bucket=BUCKET, Key="k", Body=b"abc", EncryptionContext={"a": "1"}, InstructionFile=True)

    outcome = run("inspect", "--json", f"{s3}/k")

    assert outcome.code == 0
    assert json.loads(outcome.out) == {
        "url": f"{s3}/k",
        "format": "V3",
        "suite": "ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY",
        "wrapping_algorithm": "kms+context",
        "encryption_context": {"a": "1"},
        "material_description": None,
        "plaintext_size": 3,
        "stored_size": 19,
        "instruction_file": f"{s3}/k.instruction",
        "key_id": None,
    }


def test_inspect_a_raw_aes_v2_object(s3: str) -> None:
    keyring = s3crypt.AesKeyring(b"k" * 32, material_description={"env": "dev"})
    client = s3crypt.client("s3", keyring=keyring, region_name="us-east-1", **_v2_options())
    client.put_object(Bucket=BUCKET, Key="k", Body=b"abc")

    described = json.loads(run("inspect", "--json", f"{s3}/k").out)

    assert described["format"] == "V2"
    assert described["suite"] == "ALG_AES_256_GCM_IV12_TAG16_NO_KDF"
    assert described["wrapping_algorithm"] == "AES/GCM"
    assert described["encryption_context"] is None
    assert described["material_description"]["env"] == "dev"


def _v2_options() -> dict[str, Any]:
    return {
        "algorithm_suite": s3crypt.AlgorithmSuite.ALG_AES_256_GCM_IV12_TAG16_NO_KDF,
        "commitment_policy": s3crypt.CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
    }


def test_inspect_reads_every_golden_vector_without_a_key(s3: str, plain_s3: Any) -> None:
    for path in sorted(VECTORS.glob("*.json")):
        vector = json.loads(path.read_text())
        key = path.stem
        plain_s3.put_object(Bucket=BUCKET, Key=key, Body=base64.b64decode(vector["body"]), Metadata=vector["metadata"])
        if vector["instruction_file"]:
            entries = json.dumps(vector["instruction_file"]).encode()
            plain_s3.put_object(Bucket=BUCKET, Key=f"{key}.instruction", Body=entries)

        outcome = run("inspect", "--json", f"{s3}/{key}")

        assert outcome.code == 0, (key, outcome)
        described = json.loads(outcome.out)
        assert described["format"] == ("V1" if vector.get("legacy") else key.split("-")[1].upper()), key
        assert described["plaintext_size"] == len(base64.b64decode(vector["plaintext"])), key
        assert (described["instruction_file"] is not None) == bool(vector["instruction_file"]), key
        if described["wrapping_algorithm"] == "kms+context":
            assert described["encryption_context"] == vector["encryption_context"], key


def test_inspect_of_a_plain_object(s3: str, plain_s3: Any) -> None:
    plain_s3.put_object(Bucket=BUCKET, Key="plain", Body=b"hello")
    assert_failed(run("inspect", f"{s3}/plain"), f"{s3}/plain is not client-side encrypted")


def test_inspect_of_a_missing_bucket_and_object(s3: str) -> None:
    assert_failed(run("inspect", "s3://no-such-bucket/k"), "no such bucket: no-such-bucket")
    assert_failed(run("inspect", f"{s3}/missing"), f"no such object: {s3}/missing")


# rewrap


def test_rewrap_recursive_moves_objects_to_the_new_key(
    s3: str, kms_key: str, other_key: str, plain_s3: Any, tmp_path: Path
) -> None:
    make_tree(tmp_path / "tree")
    assert run("cp", "--recursive", str(tmp_path / "tree"), f"{s3}/t", "--kms-key-id", kms_key).code == 0
    plain_s3.put_object(Bucket=BUCKET, Key="t/plain.txt", Body=b"not encrypted")

    outcome = run("rewrap", "--recursive", f"{s3}/t", "--kms-key-id", other_key, "--old-kms-key-id", kms_key)

    assert outcome.code == 2, outcome  # some skipped, as the AWS CLI says it
    assert outcome.out.splitlines()[-1] == "rotated 5, skipped 1, failed 0"
    assert f"skip: {s3}/t/plain.txt (not encrypted)" in outcome.out
    assert run("cp", f"{s3}/t/a.txt", str(tmp_path / "new"), "--kms-key-id", other_key).code == 0
    assert (tmp_path / "new").read_bytes() == b"alpha\n"
    assert_failed(run("cp", f"{s3}/t/a.txt", str(tmp_path / "old"), "--kms-key-id", kms_key), "KMS could not")


def test_rewrap_one_object_by_discovery_keeps_its_context(
    s3: str, kms_key: str, other_key: str, tmp_path: Path
) -> None:
    source = tmp_path / "f"
    source.write_bytes(b"f")
    assert run("cp", str(source), f"{s3}/f", "--kms-key-id", kms_key, "--encryption-context", "a=1").code == 0

    outcome = run("rewrap", f"{s3}/f", "--kms-key-id", other_key, "--encryption-context", "a=1")

    assert outcome == Outcome(0, f"rewrap: {s3}/f\nrotated 1, skipped 0, failed 0\n", "")
    assert json.loads(run("inspect", "--json", f"{s3}/f").out)["encryption_context"] == {"a": "1"}
    back = run("cp", f"{s3}/f", str(tmp_path / "g"), "--kms-key-id", other_key, "--encryption-context", "a=1")
    assert back.code == 0


def test_rewrap_counts_failures(s3: str, kms_key: str, other_key: str, tmp_path: Path) -> None:
    for name, context in (("a", "x=1"), ("b", "x=2")):
        source = tmp_path / name
        source.write_bytes(b"data")
        assert (
            run("cp", str(source), f"{s3}/p/{name}", "--kms-key-id", kms_key, "--encryption-context", context).code == 0
        )

    outcome = run("rewrap", "--recursive", f"{s3}/p", "--kms-key-id", other_key, "--encryption-context", "x=1")

    assert outcome.code == 1
    assert outcome.out == f"rewrap: {s3}/p/a\nrotated 1, skipped 0, failed 1\n"
    assert outcome.err.splitlines()[0].startswith(f"s3crypt: failed: {s3}/p/b: {CONTEXT_MISMATCH}")
    assert outcome.err.splitlines()[1] == "s3crypt: error: 1 of 2 objects failed"


def test_rewrap_error_paths(s3: str, kms_key: str, other_key: str, tmp_path: Path) -> None:
    assert_failed(run("rewrap", "s3://no-such-bucket/k", "--kms-key-id", other_key), "no such bucket: no-such-bucket")
    assert_failed(run("rewrap", f"{s3}/missing", "--kms-key-id", other_key), f"no such object: {s3}/missing")
    source = tmp_path / "f"
    source.write_bytes(b"f")
    assert run("cp", str(source), f"{s3}/f", "--kms-key-id", kms_key).code == 0
    assert_failed(run("rewrap", f"{s3}/f", "--kms-key-id", kms_key, "--old-kms-key-id", other_key), "KMS could not")


# the group


def test_no_command_prints_the_help() -> None:
    outcome = run()
    assert outcome.code == 252
    assert outcome.out.startswith("Usage: s3crypt [OPTIONS] COMMAND [ARGS]...")
    for command in ("cp", "inspect", "rewrap", "demo"):
        assert f"  {command} " in outcome.out


def test_version_and_help() -> None:
    assert run("--version") == Outcome(0, f"s3crypt {s3crypt.__version__}\n", "")
    helped = run("cp", "--help")
    assert helped.code == 0
    assert "--encryption-context KEY=VALUE" in helped.out


# demo


def test_demo_without_moto_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo, "moto_available", lambda: False)

    assert cli.main(["demo"]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == 's3crypt demo needs moto_server: pip install "s3crypt[demo]"'
