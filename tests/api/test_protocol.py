"""The httptools protocol of ``eligibility serve`` bounds the request head and serves as usual.

A real uvicorn server (the protocol of :mod:`eligibility.api.protocol`, the mini pack)
runs in a thread on a free loopback port; the tests speak HTTP/1.1 over raw sockets so
they control exactly how the bytes of a head arrive.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from eligibility import Engine, RulePack
from eligibility.api import Settings, create_app
from eligibility.api.protocol import BoundedHttpToolsProtocol
from eligibility.cli.serve import BOUNDED_HTTPTOOLS
from eligibility.limits import HTTP_MAX_HEADER_BYTES

from .conftest import MINI_CASE

BODY = json.dumps({"facts": MINI_CASE, "as_of": "2023-06-01"}).encode()


@pytest.fixture(scope="module")
def port(mini_pack: RulePack) -> Iterator[int]:
    config = uvicorn.Config(create_app([mini_pack], Settings()), host="127.0.0.1", port=0,
                            http=BOUNDED_HTTPTOOLS, loop="asyncio", lifespan="off",
                            log_level="critical", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started
    assert config.http_protocol_class is BoundedHttpToolsProtocol
    yield int(server.servers[0].sockets[0].getsockname()[1])
    server.should_exit = True
    thread.join(10)


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _request(body: bytes = BODY, extra: bytes = b"") -> bytes:
    return (b"POST /v1/packs/mini/evaluate HTTP/1.1\r\nHost: test\r\n"
            b"Content-Type: application/json\r\n" + extra
            + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def _responses(sock: socket.socket, count: int) -> list[tuple[int, dict[str, str], bytes]]:
    """Read ``count`` responses (status, headers, body by Content-Length)."""
    buffer = b""
    out: list[tuple[int, dict[str, str], bytes]] = []
    while len(out) < count:
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed after {len(out)} responses")
            buffer += chunk
        head, buffer = buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
        length = int(headers["content-length"])
        while len(buffer) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed inside a body")
            buffer += chunk
        out.append((int(lines[0].split()[1]), headers, buffer[:length]))
        buffer = buffer[length:]
    return out


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_a_request_gets_the_engines_bytes(port: int, mini_pack: RulePack) -> None:
    with _connect(port) as sock:
        sock.sendall(_request())
        [(status, headers, body)] = _responses(sock, 1)
    assert status == 200 and headers["content-type"] == "application/json"
    assert body == Engine(mini_pack).evaluate_json(MINI_CASE, as_of="2023-06-01")


def test_keep_alive_and_pipelined_requests_are_answered_in_order(port: int) -> None:
    summary = _request().replace(b"/evaluate ", b"/evaluate?detail=summary ")
    with _connect(port) as sock:
        sock.sendall(_request() + summary + _request())  # one write, three requests
        answers = _responses(sock, 3)
        sock.sendall(_request())  # the same connection, later
        answers += _responses(sock, 1)
    assert [a[0] for a in answers] == [200] * 4
    full = answers[0][2]
    assert answers[2][2] == full and answers[3][2] == full and answers[1][2] != full
    assert json.loads(answers[1][2])["measures"][0]["reasons"] == []


def test_a_large_body_with_a_small_head_is_not_a_large_head(port: int) -> None:
    padded = json.dumps({"facts": MINI_CASE, "as_of": "2023-06-01",
                         "lang": "nb"}).encode()[:-1] + b" " * 100_000 + b"}"
    with _connect(port) as sock:
        sock.sendall(_request(padded))
        [(status, _, body)] = _responses(sock, 1)
    assert status == 200 and json.loads(body)["measures"]


def _refused(sock: socket.socket) -> dict[str, Any]:
    [(status, headers, body)] = _responses(sock, 1)
    assert status == 431 and headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close" and _closed(sock)
    problem: dict[str, Any] = json.loads(body)
    return problem


def test_a_head_over_the_limit_in_one_write_is_refused(port: int) -> None:
    big = b"X-Padding: " + b"a" * HTTP_MAX_HEADER_BYTES + b"\r\n"
    with _connect(port) as sock:
        sock.sendall(_request(extra=big))
        problem = _refused(sock)
    assert problem["type"] == "urn:eligibility:problem:header-too-large"
    assert problem["status"] == 431 and str(HTTP_MAX_HEADER_BYTES) in problem["detail"]


def test_many_small_headers_over_the_limit_are_refused(port: int) -> None:
    many = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 40) for i in range(HTTP_MAX_HEADER_BYTES // 40))
    with _connect(port) as sock:
        sock.sendall(_request(extra=many))
        assert _refused(sock)["status"] == 431


def test_a_head_that_never_ends_is_refused_before_it_completes(port: int) -> None:
    with _connect(port) as sock:
        sock.sendall(b"POST /v1/packs/mini/evaluate HTTP/1.1\r\nHost: test\r\nX-Slow: ")
        sent = 0
        try:
            while sent < 4 * HTTP_MAX_HEADER_BYTES:  # one header value, never finished
                sock.sendall(b"b" * 1024)
                sent += 1024
                time.sleep(0.001)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert _refused(sock)["status"] == 431


def test_a_head_just_under_the_limit_is_served(port: int) -> None:
    pad = b"X-Padding: " + b"a" * (HTTP_MAX_HEADER_BYTES - 400) + b"\r\n"
    with _connect(port) as sock:
        sock.sendall(_request(extra=pad))
        [(status, _, _)] = _responses(sock, 1)
    assert status == 200


def test_malformed_http_is_a_400(port: int) -> None:
    with _connect(port) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        [(status, _, _)] = _responses(sock, 1)
    assert status == 400
