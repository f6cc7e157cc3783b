"""Every script in examples/ runs to completion against its own moto_server, and examples/app_tests passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
TIMEOUT = 120


def run(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def test_there_are_examples() -> None:
    assert {path.name for path in EXAMPLES} >= {
        "quickstart.py",
        "per_tenant_context.py",
        "large_file.py",
        "key_rotation.py",
        "local_aes_key.py",
    }


@pytest.mark.integration
@pytest.mark.moto_only  # each example starts its own moto_server
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(script: Path) -> None:
    result = run(str(script))
    assert result.returncode == 0, f"{script.name} exited with {result.returncode}:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout.strip(), f"{script.name} printed nothing"


def test_the_app_tests_pass_with_the_plugin() -> None:
    result = run("-m", "pytest", "examples/app_tests", "-p", "no:cacheprovider", "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout, result.stdout
