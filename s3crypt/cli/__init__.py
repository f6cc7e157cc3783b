"""The ``s3crypt`` command line, in the style of ``aws s3``.

``s3crypt cp`` encrypts files into S3 and decrypts objects out of it (``--recursive`` for directory trees),
``s3crypt inspect`` shows how an object is encrypted without needing any key, ``s3crypt rewrap`` rotates the
KMS key that wraps objects' data keys in place, and ``s3crypt demo`` runs against a local moto_server.

Every command exits 0 on success and 1 on failure, with one line on stderr (``s3crypt: error: ...``, and the
traceback too with ``--debug``). An interrupt (Ctrl-C) exits 130; a download it cuts short leaves no file.

One concern a module: :mod:`~s3crypt.cli.app` (the group and the entry point), :mod:`~s3crypt.cli.aws` (clients
and shared S3 calls), :mod:`~s3crypt.cli.urls`, :mod:`~s3crypt.cli.errors`, :mod:`~s3crypt.cli.progress`, and a
module per command.
"""

from s3crypt.cli.app import cli, main

__all__ = ["cli", "main"]
