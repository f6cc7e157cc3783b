"""Progress bars (tqdm, on a terminal only) and the output options --quiet, --no-progress and --json."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from s3crypt.cli import progress as cli_progress
from tests.cli.support import make_tree, run

BIG = 2 * cli_progress.PROGRESS_MIN_BYTES


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def as_terminal(monkeypatch: pytest.MonkeyPatch) -> FakeTerminal:
    """stderr as a terminal; called in the test itself, since pytest's capture sets sys.stderr again after setup."""
    stream = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


def test_the_bar_shows_bytes_speed_and_time_left(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = as_terminal(monkeypatch)
    with cli_progress.Progress(BIG, "upload 1 file") as progress:
        assert progress.shown
        progress.update(BIG // 2)
        progress.echo("upload: a to s3://b/a")  # draws the bars again below the line

    drawn = terminal.getvalue()
    assert "upload 1 file:  50%" in drawn
    assert "1.00M/2.00M" in drawn
    assert "B/s]" in drawn
    assert "<00:" in drawn  # time left
    assert drawn.endswith("\r")  # the finished bar is cleared, not printed a second time
    assert capsys.readouterr().out == "upload: a to s3://b/a\n"


def test_several_files_get_a_bar_each_and_one_overall(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = as_terminal(monkeypatch)
    with cli_progress.Progress(BIG, "upload 2 files", items=2) as progress:
        progress.start("first.bin", BIG // 2)
        progress.update(BIG // 4)
        progress.echo("line")

    drawn = terminal.getvalue()
    assert "upload 2 files:  25%" in drawn
    assert "first.bin:  50%" in drawn
    assert "512k/1.00M" in drawn


def test_no_progress_and_quiet_draw_no_bar(
    s3: str, kms_key: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # CliRunner's stderr is no terminal: take every stream for one here.
    monkeypatch.setattr(cli_progress, "progress_wanted", lambda stream, total, minimum: total >= minimum)
    (tmp_path / "big").write_bytes(b"\0" * BIG)
    upload = ["cp", str(tmp_path / "big"), f"{s3}/a", "--kms-key-id", kms_key]

    drawn = run(*upload)
    no_progress = run(*upload, "--no-progress")
    quiet = run(*upload, "--quiet")

    assert "upload 1 file:" in drawn.err
    assert (no_progress.out, no_progress.err) == (f"upload: {tmp_path / 'big'} to {s3}/a\n", "")
    assert (quiet.code, quiet.out, quiet.err) == (0, "", "")


def test_json_reports_each_file(s3: str, kms_key: str, other_key: str, tmp_path: Path) -> None:
    files = make_tree(tmp_path / "tree")
    up = run("cp", "--json", "--recursive", str(tmp_path / "tree"), f"{s3}/t", "--kms-key-id", kms_key)
    rewrapped = run("rewrap", "--json", "--recursive", f"{s3}/t", "--kms-key-id", other_key)

    reports = [json.loads(line) for line in up.out.splitlines()]
    assert len(reports) == len(files)
    assert reports[0] == {
        "action": "upload",
        "source": str(tmp_path / "tree" / "a.txt"),
        "destination": f"{s3}/t/a.txt",
        "ok": True,
    }
    lines = [json.loads(line) for line in rewrapped.out.splitlines()]
    assert lines[-1] == {"summary": {"rotated": len(files), "unchanged": 0, "skipped": 0, "failed": 0}}


def test_json_reports_a_failure_on_stdout(s3: str, kms_key: str, plain_s3: Any, tmp_path: Path) -> None:
    make_tree(tmp_path / "tree")
    assert run("cp", "--recursive", str(tmp_path / "tree"), f"{s3}/t", "--kms-key-id", kms_key).code == 0
    plain_s3.put_object(Bucket="s3crypt-test-bucket", Key="t/a.txt", Body=b"plain")

    outcome = run("cp", "--json", "--recursive", f"{s3}/t", str(tmp_path / "back"), "--kms-key-id", kms_key)

    failures = [report for report in map(json.loads, outcome.out.splitlines()) if not report["ok"]]
    assert [failure["source"] for failure in failures] == [f"{s3}/t/a.txt"]
    assert failures[0]["error"]
    assert outcome.code == 1
