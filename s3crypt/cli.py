"""The ``s3crypt`` command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from s3crypt import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="s3crypt", description="Client-side encryption for Amazon S3.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "demo",
        help="encrypt and decrypt an object against a local moto_server and show what S3 stores",
        description='Encrypt and decrypt an object against a local moto_server (pip install "s3crypt[demo]"); '
        "no AWS account is used.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``s3crypt`` console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from s3crypt import demo

        return demo.run()
    parser.print_help()
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
