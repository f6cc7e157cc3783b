"""docs/cli.md shows each command's --help as it is, and documents every command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from s3crypt.cli import cli

DOC = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()
HELP_BLOCKS = re.findall(r"```text\n(?:\$ s3crypt --help\n)?(Usage: s3crypt.*?)\n```", DOC, re.DOTALL)
COMMANDS = sorted(cli.commands)


def help_of(*command: str) -> str:
    result = CliRunner().invoke(cli, [*command, "--help"], prog_name="s3crypt", terminal_width=80)
    return result.output.rstrip("\n")


@pytest.mark.parametrize("command", [(), *((name,) for name in COMMANDS)])
def test_the_doc_shows_the_help_of(command: tuple[str, ...]) -> None:
    assert help_of(*command) in HELP_BLOCKS


def test_every_command_has_a_section() -> None:
    assert sorted(re.findall(r"^## `s3crypt (\w+)`$", DOC, re.MULTILINE)) == COMMANDS
