"""Keeps plaintext data keys out of botocore's DEBUG logs.

At DEBUG, botocore logs every request it sends and every response body it parses, which for KMS
``GenerateDataKey`` and ``Decrypt`` (responses) and ``Encrypt`` (requests) include a plaintext data key. On
import, s3crypt adds a filter to those two loggers that replaces the value of every ``Plaintext`` field.
"""

from __future__ import annotations

import logging
import re

_LOGGERS = ("botocore.parsers", "botocore.endpoint")
_PLAINTEXT = re.compile(r"""(["']Plaintext["']\s*:\s*b?)(["'])(?:(?!\2).)*\2""")
REDACTED = "<redacted by s3crypt>"


class PlaintextRedactor(logging.Filter):
    """Rewrites a log record whose message carries a ``Plaintext`` field, leaving every other record alone."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "Plaintext" in message:
            record.msg = _PLAINTEXT.sub(rf"\1\2{REDACTED}\2", message)
            record.args = ()
        return True


_REDACTOR = PlaintextRedactor()


def install() -> None:
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)
