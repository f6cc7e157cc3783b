"""Running one piece of work a object, several at a time, with a report a object and a summary (``rewrap`` and
``migrate``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from s3crypt.cli.errors import EXIT_OK, EXIT_SKIPPED, TRANSFER_ERRORS, CliError, describe
from s3crypt.cli.progress import PROGRESS_MIN_OBJECTS, Progress
from s3crypt.cli.urls import S3Url

DEFAULT_CONCURRENCY = 8


class Skipped(Exception):
    """An object left as it is, for the reason given (not encrypted, changed during the run)."""


class Unchanged(Exception):
    """An object that needs no work (already in the current format): neither done nor skipped."""


@dataclass
class Tally:
    """How many objects were done, skipped and failed."""

    verb: str
    done: int = 0
    skipped: int = 0
    failed: int = 0
    unchanged: int = 0
    current_keys: list[str] = field(default_factory=list)
    """The keys of the objects done or unchanged: those whose older versions may hold what the run replaced."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, outcome: str, key: str) -> None:
        with self._lock:
            setattr(self, outcome, getattr(self, outcome) + 1)
            if outcome in {"done", "unchanged"}:
                self.current_keys.append(key)

    def __str__(self) -> str:
        unchanged = f", unchanged {self.unchanged}" if self.unchanged else ""
        return f"{self.verb} {self.done}{unchanged}, skipped {self.skipped}, failed {self.failed}"

    def exit_code(self, total: int) -> int:
        """0 when all were done, 2 when some were skipped; a failure raises :class:`CliError`."""
        if self.failed:
            raise CliError(f"{self.failed} of {total} objects failed")
        return EXIT_SKIPPED if self.skipped else EXIT_OK


def run_batch(
    urls: Sequence[S3Url], work: Callable[[S3Url], str | None], verb: str, done: str, concurrency: int
) -> Tally:
    """Run ``work`` on each object, ``concurrency`` at a time, under one progress bar (of objects).

    ``work`` returns a note for the report line (or None), or raises :class:`Skipped`; an S3, KMS or s3crypt
    error fails that object only (or the command, when it is the only one). Each object is reported as
    ``VERB: URL``; the summary counts them as ``DONE N, skipped N, failed N``.
    """
    tally = Tally(done)
    with Progress(len(urls), verb, minimum=PROGRESS_MIN_OBJECTS) as progress:

        def one(url: S3Url) -> None:
            try:
                note = work(url)
            except Unchanged as reason:
                tally.count("unchanged", url.key)
                progress.report("unchanged", f"{url} ({reason})")
            except Skipped as reason:
                tally.count("skipped", url.key)
                progress.report("skip", f"{url} ({reason})")
            except TRANSFER_ERRORS as error:
                if len(urls) == 1:
                    raise CliError(f"{url}: {describe(error)}") from error
                tally.count("failed", url.key)
                progress.report(verb, str(url), error=describe(error))
            else:
                tally.count("done", url.key)
                progress.report(verb, f"{url} ({note})" if note else str(url))
            progress.update(1)

        with ThreadPoolExecutor(max(1, concurrency)) as pool:
            list(pool.map(one, urls))
        counts = {done: tally.done, "unchanged": tally.unchanged, "skipped": tally.skipped, "failed": tally.failed}
        progress.summary(str(tally), **counts)
    return tally
