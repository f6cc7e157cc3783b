"""What a failed or incomplete KMS call means for the caller: the reasons and advice s3crypt's errors give.

No I/O: the sync keyrings and an asyncio shell (whose aiobotocore raises botocore's own exception classes) map
KMS's errors the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import botocore.exceptions
from botocore.exceptions import BotoCoreError, ClientError

KMS_ERRORS = (ClientError, BotoCoreError)
"""What a KMS call raises that a keyring turns into an :class:`s3crypt.S3CryptError`."""

RETRY_LATER = "KMS was unreachable or busy and botocore's retries ran out: try again later"
_TRANSIENT_CODES = frozenset(
    {"ThrottlingException", "KMSInternalException", "DependencyTimeoutException", "LimitExceededException"}
)


def missing(response: Mapping[str, Any], *fields: str) -> str:
    """Which of ``fields``, which KMS always returns, a response lacks, as a reason; empty if none.

    botocore parses a KMS response whose body was cut short as an empty response, without raising.
    """
    absent = [name for name in fields if name not in response]
    return f"the response was incomplete: no {', '.join(absent)}" if absent else ""


def advice(error: Exception, otherwise: str) -> str:
    """What to do after ``error``: try later if KMS failed for the moment (throttled, unavailable, unreachable),
    else ``otherwise``, since KMS refused the request."""
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        transient = error.response.get("Error", {}).get("Code") in _TRANSIENT_CODES or status >= 500
    else:
        transient = isinstance(error, (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError))
    return RETRY_LATER if transient else otherwise


def reason(error: Exception) -> str:
    """KMS's error code and message, or botocore's description of a failure to reach it."""
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return f"{info.get('Code', 'error')}: {info.get('Message', '')}".rstrip(": ")
    return str(error)
