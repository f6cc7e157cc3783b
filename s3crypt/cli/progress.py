"""What commands print as they work: one line a file or object (text, or JSON for scripts) on stdout, failures
on stderr, and progress bars (bytes done and total, speed, time left; per file and overall) drawn with tqdm on
stderr, only when it is a terminal.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TextIO, TypeVar

import click
from tqdm import tqdm

PROGRESS_MIN_BYTES = 1024 * 1024
"""Transfers smaller than this end too soon for a progress bar to help."""
PROGRESS_MIN_OBJECTS = 2
"""``rewrap`` draws a progress bar from this many objects on."""
_Command = TypeVar("_Command", bound=Callable[..., Any])


@dataclass
class Output:
    """How a command reports: ``--quiet``, ``--no-progress`` and ``--json``."""

    quiet: bool = False
    progress: bool = True
    json: bool = False


def current_output() -> Output:
    """The output settings of the command being run (the defaults outside a command)."""
    ctx = click.get_current_context(silent=True)
    output = ctx.meta.get("s3crypt.output") if ctx is not None else None
    return output if isinstance(output, Output) else Output()


def _setter(field: str) -> Callable[[click.Context, click.Parameter, bool], None]:
    def store(ctx: click.Context, _: click.Parameter, value: bool) -> None:
        output = ctx.meta.setdefault("s3crypt.output", Output())
        if value:
            setattr(output, field, field != "progress")

    return store


def output_options(command: _Command) -> _Command:
    """``--quiet``, ``--no-progress`` and ``--json`` on a command that reports each file or object."""
    options = [
        click.option(
            "--quiet", is_flag=True, expose_value=False, callback=_setter("quiet"), help="Print nothing but failures."
        ),
        click.option(
            "--no-progress",
            is_flag=True,
            expose_value=False,
            callback=_setter("progress"),
            help="Draw no progress bar.",
        ),
        click.option(
            "--json",
            "as_json",
            is_flag=True,
            expose_value=False,
            callback=_setter("json"),
            help="Report each file or object, and the summary, as one JSON object per line.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def progress_wanted(stream: TextIO, total: int, minimum: int) -> bool:
    """Whether to draw a progress bar on ``stream``: only on a terminal, and only for work of ``minimum`` or more."""
    if total < minimum:
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # not a file, or closed
        return False


class Progress:
    """Counts work done (bytes or objects) from any thread, and reports each item as it ends.

    On a terminal (and without ``--quiet`` or ``--no-progress``) an overall bar is drawn, and for byte counts a
    second bar for the current file when there are several.
    """

    def __init__(self, total: int, label: str, minimum: int = PROGRESS_MIN_BYTES, *, items: int = 1) -> None:
        self._lock = threading.Lock()
        self._output = current_output()
        stream = sys.stderr
        drawn = self._output.progress and not self._output.quiet and progress_wanted(stream, total, minimum)
        in_bytes = minimum == PROGRESS_MIN_BYTES
        self._bar = _bar(stream, total, label, in_bytes, position=0) if drawn else None
        self._file_bar = _bar(stream, 0, "", in_bytes, position=1) if drawn and in_bytes and items > 1 else None

    @property
    def shown(self) -> bool:
        return self._bar is not None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for bar in (self._file_bar, self._bar):
            if bar is not None:
                bar.close()

    def start(self, name: str, size: int) -> None:
        """A new file of ``size`` bytes begins: the file bar starts again from zero."""
        if self._file_bar is not None:
            with self._lock:
                self._file_bar.reset(total=size)
                self._file_bar.set_description_str(name, refresh=True)

    def update(self, amount: int) -> None:
        """Add ``amount`` done; the ``Callback`` of the transfers."""
        if self._bar is not None:
            with self._lock:
                self._bar.update(amount)
                if self._file_bar is not None:
                    self._file_bar.update(amount)

    def report(self, action: str, source: str, destination: str | None = None, error: str | None = None) -> None:
        """One item ended: ``ACTION: SOURCE [to DESTINATION]`` (or a failure on stderr), or its JSON object."""
        if self._output.json:
            fields = {"action": action, "source": source, "destination": destination, "ok": error is None}
            self.echo(json.dumps({**fields, **({"error": error} if error else {})}))
        elif error is not None:
            self.echo(f"s3crypt: failed: {source}: {error}", err=True)
        elif not self._output.quiet:
            self.echo(f"{action}: {source}" + (f" to {destination}" if destination else ""))

    def summary(self, text: str, **counts: int) -> None:
        """The last line: ``text``, or the counts as JSON."""
        if self._output.json:
            self.echo(json.dumps({"summary": counts}))
        elif not self._output.quiet:
            self.echo(text)

    def echo(self, line: str, *, err: bool = False) -> None:
        """Print a line (on stdout, or stderr) above the bars, which are drawn again below it."""
        with self._lock:
            if self._bar is None:
                click.echo(line, err=err)
                return
            tqdm.write(line, file=sys.stderr if err else sys.stdout)


def _bar(stream: TextIO, total: int, label: str, in_bytes: bool, position: int) -> tqdm[Any]:
    units: dict[str, Any] = {"unit": "B", "unit_scale": True, "unit_divisor": 1024} if in_bytes else {"unit": " obj"}
    # A terminal may report 0 columns and 0 lines (a pty nobody sized), where tqdm would draw nothing; shutil
    # falls back to 80 by 24 then.
    size = shutil.get_terminal_size()
    return tqdm(
        total=total,
        desc=label,
        file=stream,
        position=position,
        leave=False,
        ncols=size.columns,
        nrows=size.lines,
        **units,
    )
