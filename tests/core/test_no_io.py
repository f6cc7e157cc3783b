"""The core, the crypto and the format make decisions only: none of them may import an AWS SDK package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import s3crypt

PACKAGE = Path(s3crypt.__file__).parent
FORBIDDEN = {"boto3", "botocore", "s3transfer", "aiobotocore"}
LAYERS = ("_core", "_crypto", "_format")


def imported_packages(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_imports_no_aws_sdk(layer: str) -> None:
    modules = sorted((PACKAGE / layer).rglob("*.py"))
    assert modules
    offenders = {str(path.relative_to(PACKAGE)): sorted(imported_packages(path) & FORBIDDEN) for path in modules}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_check_sees_an_sdk_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import typing\nif typing.TYPE_CHECKING:\n    from botocore.client import BaseClient\n")
    assert imported_packages(module) == {"typing", "botocore"}
