"""The ``s3crypt`` command line, in the style of ``aws s3``.

``ls``, ``cp``, ``mv``, ``rm`` and ``sync`` encrypt what goes into S3 and decrypt what comes out, ``inspect``
shows how an object is encrypted without needing any key, ``rewrap`` rotates the KMS key that wraps objects'
data keys in place, ``migrate`` brings a prefix to the V3 format, and ``demo`` runs against a local moto_server.

The exit statuses are those of the AWS CLI v2's s3 commands (0 done, 1 failed, 2 some skipped, 130 interrupted,
252 usage errors), with one line on stderr for a failure (``s3crypt: error: ...``; the traceback too with
``--debug``).

One concern a module: :mod:`~s3crypt.cli.app` (the group and the entry point), :mod:`~s3crypt.cli.aws` (clients
and the S3 calls every command uses), :mod:`~s3crypt.cli.urls`, :mod:`~s3crypt.cli.errors`,
:mod:`~s3crypt.cli.progress` (output and progress bars), :mod:`~s3crypt.cli.batch` and
:mod:`~s3crypt.cli.versions` (shared by ``rewrap`` and ``migrate``), and a module per command.
"""

from s3crypt.cli.app import cli, main

__all__ = ["cli", "main"]
