"""The metadata endpoint is asked once with a deadline for the whole answer: one that trickles its reply
(a byte every fraction of a second, so no single read times out) can't hold the runner's exit."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from luigi_fargate.shim.usage import ECS_METADATA_ENV, task_arn


@pytest.fixture(params=["headers", "body"])
def trickling_endpoint(request) -> Iterator[str]:
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n"
            if request.param == "body":
                conn.sendall(head + b"\r\n")
            while not stop.is_set():
                try:
                    conn.sendall(b"X-Slow: 1\r\n" if request.param == "headers" else b" ")
                except OSError:
                    return
                time.sleep(0.1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v4/abc"
    stop.set()
    listener.close()


def test_a_trickling_metadata_endpoint_costs_the_timeout_at_most(trickling_endpoint: str) -> None:
    started = time.monotonic()
    assert task_arn({ECS_METADATA_ENV: trickling_endpoint}, timeout=0.5) is None
    assert time.monotonic() - started < 1.5
