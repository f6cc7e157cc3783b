"""The ``s3crypt demo`` command and the quick-start example run end to end against a moto_server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from s3crypt import cli, demo

QUICKSTART = Path(__file__).resolve().parent.parent / "examples" / "quickstart.py"
CONTEXT_MISMATCH = "the EncryptionContext does not match the one the object was written with"


@pytest.mark.integration
def test_demo_decrypts_and_refuses_a_wrong_context(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo"]) == 0

    out = capsys.readouterr().out
    decrypted = [line for line in out.splitlines() if "Body (decrypted)" in line]
    assert decrypted == [f"  {'Body (decrypted)':<20}{demo.PLAINTEXT!r}"]
    flat = " ".join(out.split())  # the error message is wrapped over several lines
    assert f"DecryptionError {CONTEXT_MISMATCH}" in flat
    assert "moto_server stopped." in out


def test_demo_without_moto_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo, "moto_available", lambda: False)

    assert cli.main(["demo"]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == 's3crypt demo needs moto_server: pip install "s3crypt[demo]"'


@pytest.mark.integration
def test_quickstart_example_runs() -> None:
    result = subprocess.run([sys.executable, str(QUICKSTART)], capture_output=True, text=True, timeout=120, check=False)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello, world!\n"
