"""How the command line fails: its exit statuses, and each error as one line for the user."""

from __future__ import annotations

from collections.abc import Mapping

from botocore.exceptions import BotoCoreError, ClientError

from s3crypt._errors import S3CryptError

# As the s3 commands of the AWS CLI v2.
EXIT_OK = 0
EXIT_FAILURE = 1
"""A transfer, or the command, failed."""
EXIT_SKIPPED = 2
"""Some objects were skipped (for example not encrypted), and everything else was done."""
EXIT_INTERRUPTED = 130
EXIT_USAGE = 252
"""The command line is wrong: an unknown option, a missing argument, options that do not go together."""
TRANSFER_ERRORS = (S3CryptError, ClientError, BotoCoreError, OSError)
"""What one object's transfer or rewrap may raise without stopping the others."""


class CliError(Exception):
    """A failure the command line reports as one line on stderr."""

    exit_code = EXIT_FAILURE


class CliUsageError(CliError):
    """A command line that cannot be run as written."""

    exit_code = EXIT_USAGE


def describe(error: BaseException) -> str:
    """``error`` as one line for the user."""
    if isinstance(error, ClientError):
        text = _describe_client_error(error)
    elif isinstance(error, OSError) and error.strerror and error.filename:
        text = f"{error.strerror}: {error.filename}"
    elif isinstance(error, (CliError, S3CryptError, BotoCoreError, OSError)):
        text = str(error)
    else:
        text = f"{type(error).__name__}: {error}"
    return " ".join(text.split())


def _describe_client_error(error: ClientError) -> str:
    info: Mapping[str, object] = error.response.get("Error", {})
    code, message, bucket = info.get("Code", "error"), info.get("Message"), info.get("BucketName")
    if code == "NoSuchBucket":
        return f"no such bucket: {bucket}" if bucket else "no such bucket"
    return f"{message} ({code} from {error.operation_name})" if message else f"{code} from {error.operation_name}"


def status_of(error: ClientError) -> int | None:
    """The HTTP status of an S3 error."""
    status: int | None = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status
