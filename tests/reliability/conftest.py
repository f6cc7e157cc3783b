"""Shared set-up of the reliability suite: bounded runs in CI, full runs on demand.

``S3CRYPT_RELIABILITY=full python -m pytest tests/reliability`` runs the long load and soak tests at full size;
without it they run a bounded version that keeps CI under its time limit.
"""

from __future__ import annotations

import os

FULL = os.environ.get("S3CRYPT_RELIABILITY") == "full"


def scale(bounded: int, full: int) -> int:
    """The size of a load test: ``full`` on demand, ``bounded`` in CI."""
    return full if FULL else bounded
