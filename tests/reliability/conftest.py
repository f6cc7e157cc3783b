"""Shared set-up of the reliability suite: bounded runs in CI, full runs on demand.

``S3CRYPT_RELIABILITY=full python -m pytest tests/reliability`` runs the long load and soak tests at full size;
without it they run a bounded version that keeps CI under its time limit.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

FULL = os.environ.get("S3CRYPT_RELIABILITY") == "full"


def scale(bounded: int, full: int) -> int:
    """The size of a load test: ``full`` on demand, ``bounded`` in CI."""
    return full if FULL else bounded


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The fault injection and load runs need moto's own controls: they stay on moto whatever the S3 target."""
    for item in items:
        if item.path.parent == Path(__file__).parent and item.path.name in {"test_faults.py", "test_load.py"}:
            item.add_marker(pytest.mark.moto_only)
