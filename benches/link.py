"""A link simulator: a TCP proxy on 127.0.0.1 that gives every connection the bandwidth and latency of a network link.

Each connection through the proxy is shaped on its own, in each direction: bytes are held for ``latency_s`` (one
way) and then sent no faster than ``rate`` bytes per second (a token bucket with a small burst), so ten
connections get ten times one connection's rate, as ten connections to S3 do. Bytes pass through unchanged and
are counted. Point the S3 client at :attr:`LinkProxy.url`; leave the KMS client on the server itself.

Usage: python benches/link.py --upstream http://127.0.0.1:PORT [--rate-mb 100] [--latency-ms 2]
(runs until interrupted; the benchmark starts it in-process with ``with LinkProxy(...) as link:``)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import threading
import time
import urllib.parse
from collections.abc import Sequence
from types import TracebackType

READ_SIZE = 256 * 1024
BURST = 512 * 1024
"""Bytes a connection may send at once after a pause: a few reads, to absorb the scheduler's jitter."""
QUEUED_READS = 16
"""Reads held per direction: more than the bytes in flight on the link (100 MB/s x 2 ms = 200 kB)."""


class TokenBucket:
    """At most ``burst + rate * t`` bytes in any ``t`` seconds."""

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = burst
        self._tokens = float(burst)
        self._stamp = time.monotonic()

    def delay(self, amount: int) -> float:
        """Take ``amount`` bytes; how long to wait before sending them (the bucket may go into debt)."""
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate) - amount
        self._stamp = now
        return max(0.0, -self._tokens / self._rate)


class LinkProxy:
    """Forwards TCP connections from 127.0.0.1 on a free port to ``upstream``, shaping each one.

    Runs an asyncio loop in a thread of its own; a context manager, or call :meth:`close`.
    """

    def __init__(self, upstream: str, rate: float = 100e6, latency_s: float = 0.002) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self._upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.rate = rate
        self.latency_s = latency_s
        self.bytes_up = 0  # client to server
        self.bytes_down = 0  # server to client
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._tasks: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, name="link-proxy", daemon=True)
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result()
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _start(self) -> asyncio.Server:
        return await asyncio.start_server(self._accept, "127.0.0.1", 0)

    def __enter__(self) -> LinkProxy:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop listening, end the open connections, stop the loop's thread."""
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    async def _stop(self) -> None:
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            server_reader, server_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            client_writer.close()
            self._tasks.discard(task)
            return
        pipes = [
            asyncio.create_task(self._pipe(client_reader, server_writer, upstream=True)),
            asyncio.create_task(self._pipe(server_reader, client_writer, upstream=False)),
        ]
        try:
            await asyncio.gather(*pipes)
        except (OSError, asyncio.CancelledError):
            pass  # a reset, or the proxy closing: both directions end and both sides are closed below
        finally:
            for pipe in pipes:
                pipe.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            for writer in (client_writer, server_writer):
                writer.close()
                with contextlib.suppress(OSError, asyncio.CancelledError):
                    await writer.wait_closed()
            self._tasks.discard(task)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, upstream: bool) -> None:
        """Bytes from ``reader`` to ``writer``: each read held for the latency, then sent at the link's rate."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(QUEUED_READS)

        async def receive() -> None:
            while data := await reader.read(READ_SIZE):
                await queue.put((loop.time() + self.latency_s, data))
            await queue.put((loop.time() + self.latency_s, b""))  # end of stream, after the data before it

        receiving = asyncio.create_task(receive())
        bucket = TokenBucket(self.rate, BURST)
        try:
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - loop.time()))
                if not data:
                    break
                await asyncio.sleep(bucket.delay(len(data)))
                writer.write(data)
                await writer.drain()
                if upstream:
                    self.bytes_up += len(data)
                else:
                    self.bytes_down += len(data)
            if writer.can_write_eof():
                writer.write_eof()  # a half-close passes through: the other direction goes on
            await receiving
        finally:
            receiving.cancel()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await receiving


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upstream", required=True, help="the server, e.g. http://127.0.0.1:5000")
    parser.add_argument("--rate-mb", type=float, default=100.0, help="per connection and direction, 10^6 bytes/s")
    parser.add_argument("--latency-ms", type=float, default=2.0, help="one way, added to every byte")
    args = parser.parse_args(argv)
    with LinkProxy(args.upstream, args.rate_mb * 1e6, args.latency_ms / 1000) as link:
        print(f"{link.url} -> {args.upstream}: {args.rate_mb:g} MB/s per connection, {args.latency_ms:g} ms one way")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
        print(f"{link.connections} connections, {link.bytes_up} bytes up, {link.bytes_down} bytes down")


if __name__ == "__main__":
    main()
