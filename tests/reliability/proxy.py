"""A small fault-injecting HTTP/1.1 proxy for the reliability tests, placed in front of ``moto_server``.

Point S3 and KMS clients at :attr:`FaultProxy.url`; every request is forwarded to the upstream endpoint unless a
fault armed with :meth:`FaultProxy.arm` matches it. A fault can answer with an S3- or KMS-shaped error, reset the
connection, cut the response short, drop the connection half-way through the request body, or hold the request
past the client's read timeout. Every request the proxy reads is recorded with its body (:attr:`exchanges`), so a
test can compare what botocore's retries sent.

One request per connection: every response says ``Connection: close`` and the connection is closed after it,
which botocore handles by opening a new one. Request bodies must carry ``Content-Length`` (botocore sends one over
plain HTTP).
"""

from __future__ import annotations

import dataclasses
import email.message
import http.client
import json
import socket
import struct
import threading
import urllib.parse
from types import TracebackType

# Headers the proxy does not pass on: it answers Expect: 100-continue itself, sends each response body whole with
# its length, and closes every connection after one exchange.
_REQUEST_HOP_BY_HOP = frozenset({"connection", "keep-alive", "expect"})
_RESPONSE_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})
# S3 operations by method and by which of these query parameters the request has.
_S3_QUERY = frozenset({"uploads", "uploadId", "partNumber"})
_S3_OPERATIONS = {
    ("PUT", frozenset()): "PutObject",
    ("GET", frozenset()): "GetObject",
    ("HEAD", frozenset()): "HeadObject",
    ("POST", frozenset({"uploads"})): "CreateMultipartUpload",
    ("PUT", frozenset({"partNumber", "uploadId"})): "UploadPart",
    ("POST", frozenset({"uploadId"})): "CompleteMultipartUpload",
    ("DELETE", frozenset({"uploadId"})): "AbortMultipartUpload",
}


@dataclasses.dataclass(frozen=True)
class Request:
    """A request's line and headers, as the proxy read them."""

    method: str
    target: str
    headers: email.message.Message

    @property
    def query(self) -> dict[str, list[str]]:
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.target).query, keep_blank_values=True)

    @property
    def operation(self) -> str:
        """The AWS operation: KMS's from ``X-Amz-Target``; S3's object and multipart operations from the method
        and query (``?uploads``, ``?partNumber=&uploadId=``, ...); anything else is ``"other"``."""
        target = self.headers.get("X-Amz-Target")
        if target:  # TrentService.GenerateDataKey
            return target.rpartition(".")[2]
        return _S3_OPERATIONS.get((self.method, frozenset(self.query) & _S3_QUERY), "other")


@dataclasses.dataclass(frozen=True)
class Respond:
    """Answer with this response instead of forwarding the request."""

    status: int
    reason: str
    content_type: str
    body: bytes


@dataclasses.dataclass(frozen=True)
class Reset:
    """Read the request, then reset the connection (RST) without forwarding it or answering."""


@dataclasses.dataclass(frozen=True)
class Truncate:
    """Forward the request, then send the response's headers (with its full Content-Length) and only ``fraction``
    of its body, and close the connection."""

    fraction: float = 0.5


@dataclasses.dataclass(frozen=True)
class DropUpload:
    """Read only ``fraction`` of the request body, then reset the connection; nothing is forwarded."""

    fraction: float = 0.5


@dataclasses.dataclass(frozen=True)
class Delay:
    """Read the request and hold it for ``seconds`` (longer than the client's read timeout), then close the
    connection without forwarding it: the client gave up, and S3 never saw the request."""

    seconds: float


Fault = Respond | Reset | Truncate | DropUpload | Delay


def s3_error(status: int, code: str, message: str) -> Respond:
    """An S3 error response: ``s3_error(503, "SlowDown", ...)``."""
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Respond(status, http.HTTPStatus(status).phrase, "application/xml", body.encode())


def kms_error(status: int, error_type: str, message: str) -> Respond:
    """A KMS (JSON 1.1) error response: ``kms_error(400, "ThrottlingException", ...)``."""
    body = json.dumps({"__type": error_type, "message": message}).encode()
    return Respond(status, http.HTTPStatus(status).phrase, "application/x-amz-json-1.1", body)


@dataclasses.dataclass(frozen=True)
class Exchange:
    """A request the proxy read: its body (only the part read, for :class:`DropUpload`) and the fault it got."""

    request: Request
    body: bytes
    fault: Fault | None


@dataclasses.dataclass
class _Armed:
    operation: str
    fault: Fault
    remaining: int | None  # None: every matching request


class FaultProxy:
    """Forwards HTTP requests from 127.0.0.1 on a free port to ``upstream`` (``http://host:port``), injecting the
    armed faults. Use it as a context manager, or call :meth:`close`."""

    def __init__(self, upstream: str) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self._upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self._armed: list[_Armed] = []
        self._exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, name="fault-proxy", daemon=True).start()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop accepting connections and release the requests held by :class:`Delay`."""
        self._closed.set()
        self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() of the listening thread
        self._listener.close()

    def arm(self, operation: str, fault: Fault, times: int | None = None) -> None:
        """Inject ``fault`` into the first ``times`` requests of ``operation`` (see :attr:`Request.operation`),
        or into all of them when ``times`` is None. Faults armed earlier take precedence."""
        with self._lock:
            self._armed.append(_Armed(operation, fault, times))

    @property
    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._exchanges)

    def _take_fault(self, request: Request) -> Fault | None:
        with self._lock:
            for armed in self._armed:
                if armed.operation == request.operation and armed.remaining != 0:
                    if armed.remaining is not None:
                        armed.remaining -= 1
                    return armed.fault
        return None

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection, connection.makefile("rb") as incoming:
            request_line = incoming.readline(65537)
            if not request_line:
                return
            method, target, _ = request_line.decode("latin-1").split(" ", 2)
            request = Request(method, target, http.client.parse_headers(incoming))
            fault = self._take_fault(request)
            length = int(request.headers.get("Content-Length", 0))
            if length and request.headers.get("Expect", "").lower() == "100-continue":
                connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            if isinstance(fault, DropUpload):
                length = int(length * fault.fraction)
            body = incoming.read(length)
            with self._lock:
                self._exchanges.append(Exchange(request, body, fault))
            match fault:
                case DropUpload() | Reset():
                    _reset(connection)
                case Delay(seconds=seconds):
                    self._closed.wait(seconds)
                case Respond(status=status, reason=reason, content_type=content_type, body=error_body):
                    error_body = b"" if method == "HEAD" else error_body
                    headers = [("Content-Type", content_type), ("Content-Length", str(len(error_body)))]
                    connection.sendall(_head(status, reason, headers) + error_body)
                case Truncate(fraction=fraction):
                    status, reason, headers, response_body = self._forward(request, body)
                    connection.sendall(
                        _head(status, reason, headers) + response_body[: int(len(response_body) * fraction)]
                    )
                case None:
                    status, reason, headers, response_body = self._forward(request, body)
                    connection.sendall(_head(status, reason, headers) + response_body)

    def _forward(self, request: Request, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """Send the request upstream; its response, with the headers to send on (and a Content-Length)."""
        upstream = http.client.HTTPConnection(*self._upstream, timeout=30)
        try:
            upstream.putrequest(request.method, request.target, skip_host=True, skip_accept_encoding=True)
            for name, value in request.headers.items():
                if name.lower() not in _REQUEST_HOP_BY_HOP:
                    upstream.putheader(name, value)
            upstream.endheaders(body)
            response = upstream.getresponse()
            response_body = response.read()
        finally:
            upstream.close()
        headers = [(name, value) for name, value in response.getheaders() if name.lower() not in _RESPONSE_HOP_BY_HOP]
        # A HEAD response keeps the Content-Length of the body it does not carry.
        length = response.getheader("Content-Length") if request.method == "HEAD" else None
        headers.append(("Content-Length", length or str(len(response_body))))
        return response.status, response.reason, headers, response_body


def _head(status: int, reason: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{name}: {value}" for name, value in headers), "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _reset(connection: socket.socket) -> None:
    """Close with a TCP reset rather than an orderly shutdown (SO_LINGER with a zero timeout)."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()
