"""The ``s3crypt`` command group, its global options, and the entry point that turns failures into exit statuses."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

import click

from s3crypt import __version__
from s3crypt.cli.aws import Aws
from s3crypt.cli.copying import cp
from s3crypt.cli.errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, CliError, describe
from s3crypt.cli.inspection import inspect
from s3crypt.cli.listing import ls
from s3crypt.cli.migrating import migrate
from s3crypt.cli.moving import mv
from s3crypt.cli.removing import rm
from s3crypt.cli.rewrapping import rewrap
from s3crypt.cli.syncing import sync


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="s3crypt", message="%(prog)s %(version)s")
@click.option("--profile", help="The AWS profile to use.")
@click.option("--region", help="The AWS region of S3 and KMS.")
@click.option("--endpoint-url", help="Send S3 and KMS requests to this URL (for example a moto_server).")
@click.option("--debug", is_flag=True, help="Show the traceback of a failure.")
@click.pass_context
def cli(ctx: click.Context, profile: str | None, region: str | None, endpoint_url: str | None, debug: bool) -> None:
    """Client-side encryption for Amazon S3."""
    aws = ctx.ensure_object(Aws)
    aws.profile, aws.region, aws.endpoint_url, aws.debug = profile, region, endpoint_url, debug


@cli.command()
def demo() -> int:
    """Encrypt and decrypt an object against a local moto_server and show what S3 stores.

    Needs moto_server (pip install "s3crypt[demo]"); no AWS account is used.
    """
    from s3crypt import _demo as walkthrough

    return walkthrough.run()


for _command in (cp, inspect, ls, migrate, mv, rewrap, rm, sync):
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``s3crypt`` console script; returns the exit status."""
    aws = Aws()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = cli.main(args, prog_name="s3crypt", standalone_mode=False, obj=aws)
    except click.exceptions.NoArgsIsHelpError as error:
        click.echo(error.ctx.get_help())
        return EXIT_USAGE
    except (click.Abort, KeyboardInterrupt):
        if aws.debug:
            traceback.print_exc()
        click.echo("s3crypt: interrupted", err=True)
        return EXIT_INTERRUPTED
    except click.UsageError as error:
        _report_error(_usage_message(error))
        return EXIT_USAGE
    except click.ClickException as error:
        _report_error(" ".join(error.format_message().split()))
        return EXIT_FAILURE
    except CliError as error:
        if aws.debug:
            traceback.print_exc()
        _report_error(describe(error))
        return error.exit_code
    except Exception as error:
        if aws.debug:
            traceback.print_exc()
        _report_error(describe(error))
        return EXIT_FAILURE
    return result if isinstance(result, int) else EXIT_OK


def _report_error(message: str) -> None:
    click.echo(f"s3crypt: error: {message}", err=True)


def _usage_message(error: click.UsageError) -> str:
    message = " ".join(error.format_message().split())
    if error.ctx is not None:
        message += f" (see '{error.ctx.command_path} --help')"
    return message
