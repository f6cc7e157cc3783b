"""The transfers' task helpers alone: clean-up that a cancellation cannot cut short, and cannot lose either."""

from __future__ import annotations

import asyncio

import pytest

from s3crypt.aio.transfers.tasks import settle


async def test_settle_finishes_the_work_and_then_raises_the_callers_cancellation() -> None:
    work: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    waiter = asyncio.create_task(settle(work))
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.sleep(0)
    assert not waiter.done()  # still waiting for the work, which a cancellation must not cut short
    work.set_result(1)
    with pytest.raises(asyncio.CancelledError):
        await waiter


async def test_settle_keeps_a_cancellation_that_lands_as_the_work_ends() -> None:
    work: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    waiter = asyncio.create_task(settle(work))
    await asyncio.sleep(0)
    work.set_result(1)  # the waiter's wake-up is scheduled ...
    waiter.cancel()  # ... and the caller's cancellation lands before it runs
    with pytest.raises(asyncio.CancelledError):
        await waiter


async def test_settle_returns_the_result_when_nothing_is_cancelled() -> None:
    assert await settle(asyncio.sleep(0, result=7)) == 7
