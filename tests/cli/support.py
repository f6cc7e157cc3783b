"""Running the ``s3crypt`` command line in process, and the files the CLI tests copy around."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from s3crypt import cli


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


def run(*args: str, stdin: bytes | None = None) -> Outcome:
    """Run ``s3crypt ARGS`` through ``cli.main`` with CliRunner's captured (non-TTY) streams."""
    runner = CliRunner()
    with runner.isolation(input=stdin) as (out, err, _):
        code = cli.main(list(args))
        sys.stdout.flush()
        sys.stderr.flush()
    return Outcome(code, out.getvalue().decode(), err.getvalue().decode())


def assert_failed(outcome: Outcome, message: str, code: int = 1) -> None:
    """Exit status ``code`` with one line on stderr that contains ``message``, no traceback and nothing on stdout."""
    assert outcome.code == code, outcome
    assert outcome.err.startswith("s3crypt: error: "), outcome.err
    assert outcome.err.count("\n") == 1, outcome.err
    assert message in outcome.err
    assert outcome.out == ""


def make_tree(root: Path) -> dict[str, bytes]:
    """A small directory tree (nested, an empty file, a non-ASCII name); its files by relative path."""
    files = {
        "a.txt": b"alpha\n",
        "empty": b"",
        "sub/b.bin": bytes(range(256)) * 10,
        "sub/deeper/c.txt": b"gamma",
        "sub/\u00e9t\u00e9.txt": "\u00e9t\u00e9".encode(),
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def read_tree(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def assert_usage_error(outcome: Outcome, message: str) -> None:
    """A command line that cannot run: exit status 252, as the AWS CLI's, with one line on stderr."""
    assert_failed(outcome, message, code=252)
