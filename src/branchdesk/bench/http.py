"""A lean keep-alive HTTP/1.1 client for the benches' timed phases.

The benches run their clients on the machine that serves, so every millisecond of client CPU is
taken from the server and PostgreSQL. httpx's ``AsyncClient`` spends about 1 to 2 ms of CPU per
request: on the 2-core development machine, 8 httpx clients get 818 ``GET /healthz`` per second
out of a server that answers wrk's 8 connections 4,980 times a second (BENCHMARKS.md, "Session
7"). This client writes the request bytes itself and reads the status line, the headers and
a ``Content-Length`` or chunked body from a pooled connection: tens of microseconds per request.

Only what the benches need: ``http://`` URLs, ``get`` and ``post`` (JSON bodies), responses with
``status_code``, ``content``, ``text`` and ``json()``. Failures raise ``httpx.TransportError``, so
the benches count them exactly as they counted httpx's.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

_MAX_HEAD = 1 << 20  # bytes of status line and headers accepted from the server


class Answer(Protocol):
    """What the benches read of a response (httpx's and this module's)."""

    @property
    def status_code(self) -> int: ...

    def json(self) -> Any: ...


class BenchClient(Protocol):
    """What the benches call on a client (httpx's ``AsyncClient`` in-process, else
    ``LeanClient``)."""

    async def get(self, url: str) -> Answer: ...

    async def post(self, url: str, *, json: Any = None) -> Answer: ...

    async def aclose(self) -> None: ...


class BenchResponse:
    __slots__ = ("content", "status_code")

    def __init__(self, status_code: int, content: bytes) -> None:
        self.status_code = status_code
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class _Connection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        self.writer.close()


class LeanClient:
    """Keep-alive connections to one ``http://host:port``, opened as concurrent requests need
    them and reused; ``headers`` go with every request (the bearer token, say)."""

    def __init__(
        self, base_url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 60.0
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the bench client speaks plain http://host[:port], not {base_url!r}")
        self._host = parts.hostname
        self._port = parts.port or 80
        self._prefix = parts.path.rstrip("/")
        fixed = {"Host": parts.netloc, **(headers or {})}
        self._head = "".join(f"{name}: {value}\r\n" for name, value in fixed.items())
        self._timeout = timeout
        self._idle: list[_Connection] = []

    async def get(self, url: str) -> BenchResponse:
        return await self.request("GET", url)

    async def post(self, url: str, *, json: Any = None) -> BenchResponse:
        return await self.request("POST", url, json=json)

    async def request(self, method: str, url: str, *, json: Any = None) -> BenchResponse:
        body = b"" if json is None else _dumps(json)
        head = f"{method} {self._prefix}{url} HTTP/1.1\r\n{self._head}"
        if json is not None:
            head += "Content-Type: application/json\r\n"
        if json is not None or method not in ("GET", "HEAD"):
            head += f"Content-Length: {len(body)}\r\n"
        message = (head + "\r\n").encode("latin-1") + body
        connection = self._idle.pop() if self._idle else None
        try:
            async with asyncio.timeout(self._timeout):
                if connection is None:
                    connection = _Connection(
                        *await asyncio.open_connection(self._host, self._port, limit=_MAX_HEAD)
                    )
                connection.writer.write(message)
                await connection.writer.drain()
                response, keep = await _read_response(connection.reader, method)
        except (OSError, EOFError, TimeoutError, ValueError, asyncio.LimitOverrunError) as exc:
            if connection is not None:
                connection.close()
            raise httpx.TransportError(f"{method} {url}: {exc!r}") from exc
        except BaseException:  # cancelled: the connection may hold half a response
            if connection is not None:
                connection.close()
            raise
        if keep:
            self._idle.append(connection)
        else:
            connection.close()
        return response

    async def aclose(self) -> None:
        while self._idle:
            self._idle.pop().close()

    async def __aenter__(self) -> LeanClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


async def _read_response(reader: asyncio.StreamReader, method: str) -> tuple[BenchResponse, bool]:
    """The response's status and body, and whether the connection may be reused."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status_line, *lines = head.split("\r\n")
    version, _, rest = status_line.partition(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x response: {status_line[:80]!r}")
    status = int(rest[:3])
    length: int | None = None
    chunked = False
    keep = version == "HTTP/1.1"
    for line in lines:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding":
            chunked = "chunked" in value.lower()
        elif name == "connection":
            option = value.strip().lower()
            keep = option == "keep-alive" or (keep and option != "close")
    if method == "HEAD" or status in (204, 304) or status < 200:
        return BenchResponse(status, b""), keep
    if chunked:
        return BenchResponse(status, await _read_chunks(reader)), keep
    if length is not None:
        return BenchResponse(status, await reader.readexactly(length)), keep
    return BenchResponse(status, await reader.read()), False  # the body ends with the connection


async def _read_chunks(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers, then the blank line
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
