"""The benches' lean HTTP/1.1 client: against the real app under uvicorn, and against raw
sockets for the framings and failures uvicorn does not produce on demand."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from branchdesk.bench.http import LeanClient

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    request_line, *lines = head.split("\r\n")
    headers = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return request_line, headers, body


async def _with_peer(handler: Handler, run: Callable[[str], Awaitable[None]]) -> int:
    """Serve ``handler`` on a free port while ``run(base_url)`` runs; the connections seen."""
    connections = 0

    async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(counted, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        await run(f"http://127.0.0.1:{port}")
    return connections


def test_requests_reuse_one_connection_and_send_json_and_headers() -> None:
    seen: list[tuple[str, dict[str, str], bytes]] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while not reader.at_eof():
            try:
                seen.append(await _read_request(reader))
            except asyncio.IncompleteReadError:
                return
            body = json.dumps({"n": len(seen)}).encode()
            writer.write(
                b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()

    async def run(base: str) -> None:
        async with LeanClient(base + "/root/", headers={"Authorization": "Bearer t"}) as client:
            first = await client.post("/api/v1/x", json={"amount_minor": 5, "名": "陳"})
            second = await client.get("/healthz")
        assert (first.status_code, first.json()) == (201, {"n": 1})
        assert (second.status_code, second.text) == (201, '{"n": 2}')

    assert asyncio.run(_with_peer(handler, run)) == 1
    (post_line, post_headers, post_body), (get_line, get_headers, get_body) = seen
    assert post_line == "POST /root/api/v1/x HTTP/1.1"
    assert post_headers["authorization"] == "Bearer t"
    assert post_headers["content-type"] == "application/json"
    assert json.loads(post_body) == {"amount_minor": 5, "名": "陳"}
    assert get_line == "GET /root/healthz HTTP/1.1"
    assert "content-length" not in get_headers
    assert get_body == b""


@pytest.mark.parametrize(
    ("response", "body", "connections"),
    [
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
         b"abcde", 1),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", b"ok", 2),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", b"ok", 2),
        (b"HTTP/1.1 200 OK\r\n\r\nuntil the end", b"until the end", 2),
        (b"HTTP/1.1 204 No Content\r\n\r\n", b"", 1),
    ],
)  # fmt: skip
def test_framings(response: bytes, body: bytes, connections: int) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await _read_request(reader)
            except asyncio.IncompleteReadError:
                return
            writer.write(response)
            await writer.drain()
            if not any(framed in response for framed in (b"Content-Length", b"chunked", b" 204 ")):
                return  # a body without a length ends with the connection

    async def run(base: str) -> None:
        async with LeanClient(base) as client:
            for _ in range(2):
                answer = await client.get("/x")
                assert answer.content == body

    assert asyncio.run(_with_peer(handler, run)) == connections


@pytest.mark.parametrize(
    "reply",
    [b"", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", b"SSH-2.0-OpenSSH\r\n\r\n"],
)
def test_a_broken_answer_is_a_transport_error_and_the_connection_is_dropped(reply: bytes) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _read_request(reader)
        except asyncio.IncompleteReadError:
            return
        writer.write(reply)
        await writer.drain()

    async def run(base: str) -> None:
        client = LeanClient(base)
        with pytest.raises(httpx.TransportError):
            await client.get("/x")
        assert client._idle == []  # nothing half-read goes back to the pool

    asyncio.run(_with_peer(handler, run))


def test_a_slow_server_times_out() -> None:
    async def handler(reader: asyncio.StreamReader, _writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(5)

    async def run(base: str) -> None:
        with pytest.raises(httpx.TransportError, match="TimeoutError"):
            await LeanClient(base, timeout=0.2).get("/x")

    asyncio.run(_with_peer(handler, run))


def test_only_plain_http_urls() -> None:
    for url in ("https://bank.example", "bank.example:8000", "http://"):
        with pytest.raises(ValueError, match="plain http"):
            LeanClient(url)


def test_the_app_under_uvicorn(app: FastAPI) -> None:
    async def run() -> None:
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="off")
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with LeanClient(f"http://127.0.0.1:{port}") as client:
            health = await client.get("/healthz")
            refused = await client.post("/api/v1/transfers", json={"amount_minor": 1})
            again = await client.get("/healthz")
            assert len(client._idle) == 1  # all three on one connection
        server.should_exit = True
        await serving
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        assert refused.status_code == 401
        assert refused.json()["error"] == "unauthorized"
        assert again.status_code == 200

    asyncio.run(run())
