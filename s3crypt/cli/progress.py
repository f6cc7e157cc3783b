"""Progress of long work (bytes or objects), drawn on stderr only when it is a terminal."""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

import click

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

PROGRESS_MIN_BYTES = 1024 * 1024
"""Transfers smaller than this end too soon for a progress bar to help."""
PROGRESS_MIN_OBJECTS = 2
"""``rewrap`` draws a progress bar from this many objects on."""


def progress_wanted(stream: TextIO, total: int, minimum: int) -> bool:
    """Whether to draw a progress bar on ``stream``: only on a terminal, and only for work of ``minimum`` or more."""
    if total < minimum:
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # not a file, or closed
        return False


class Progress:
    """Counts work done (bytes or objects), from any thread, on a click progress bar when stderr is a terminal."""

    def __init__(self, total: int, label: str, minimum: int = PROGRESS_MIN_BYTES) -> None:
        self._lock = threading.Lock()
        stream = sys.stderr
        self._bar: ProgressBar[int] | None = (
            click.progressbar(length=total, label=label, file=stream, show_percent=True)
            if progress_wanted(stream, total, minimum)
            else None
        )

    @property
    def shown(self) -> bool:
        return self._bar is not None

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(kind, error, trace)

    def update(self, amount: int) -> None:
        """Add ``amount`` done; the ``Callback`` of the transfers."""
        if self._bar is not None:
            with self._lock:
                self._bar.update(amount)

    def echo(self, line: str, *, err: bool = False) -> None:
        """Print a line (on stdout, or stderr) without mixing it into the bar, which is drawn again below it."""
        with self._lock:
            if self._bar is not None:
                click.echo("\r\033[K", nl=False, err=True)
            click.echo(line, err=err)
            if self._bar is not None:
                click.echo(self._bar.format_progress_line(), nl=False, err=True)
