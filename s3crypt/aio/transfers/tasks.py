"""Running a transfer's part or range tasks: all of them, or none once one fails, and clean-up that finishes even
when the transfer's own task is cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")


async def settle(awaitable: Awaitable[T]) -> T:
    """Await ``awaitable`` to its end even if the caller is cancelled meanwhile; that cancellation is raised after.

    For clean-up (an abort, stopping the tasks that write to a file), which must not be cut short.
    """
    future = asyncio.ensure_future(awaitable)
    cancelled = False
    while not future.done():
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:  # the caller's, even one that lands as the future ends; or the future's own
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return future.result()


async def stop(tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel ``tasks`` and wait until every one has ended."""
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        await settle(asyncio.wait(pending))


async def all_or_none(tasks: list[asyncio.Task[T]]) -> list[T]:
    """The results of ``tasks``; at the first failure, or if the caller is cancelled, the others are cancelled and
    awaited before the error is raised."""
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if not task.cancelled() and (error := task.exception()) is not None:
                raise error
        return [task.result() for task in tasks]
    except BaseException:
        await stop(tasks)
        raise
