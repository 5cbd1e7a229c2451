"""``sizes suggest --log-group``: usage events read from CloudWatch Logs (moto's server on 127.0.0.1), page by page,
through throttling.

moto ignores JSON filter patterns (it returns every event), so the reader also
meets the log's other lines here, as it would with a pattern that matched more.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
import urllib.request
from collections.abc import Iterator

import boto3
import pytest

from luigi_fargate.sizes.cloudwatch import runs_from_log_group
from tests.sizes.events import usage

GROUP = "/luigi-fargate"
REGION = "us-east-1"
#: CloudWatch (and moto) refuse events more than 14 days old: the events are recent.
T0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2)


class ThrottlingProxy(http.server.ThreadingHTTPServer):
    """Forwards to moto, answering the first ``throttle`` FilterLogEvents calls with ThrottlingException."""

    def __init__(self, upstream: str, throttle: int) -> None:
        self.upstream, self.throttle, self.filter_calls, self.throttled = upstream, throttle, 0, 0
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: ThrottlingProxy

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if "FilterLogEvents" in self.headers.get("X-Amz-Target", ""):
            self.server.filter_calls += 1
            if self.server.throttled < self.server.throttle:
                self.server.throttled += 1
                self._answer(400, json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode(), "application/x-amz-json-1.1")
                return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        request = urllib.request.Request(self.server.upstream + self.path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - moto on 127.0.0.1
                self._answer(response.status, response.read(), response.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as exc:
            self._answer(exc.code, exc.read(), exc.headers.get("Content-Type", ""))

    def _answer(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def log_group(moto_reset: str) -> str:
    """120 usage events of runs that ran, in two streams, among text lines, other events and runs that found their task complete."""
    logs = boto3.client("logs", region_name=REGION, endpoint_url=moto_reset)
    logs.create_log_group(logGroupName=GROUP)
    for stream in ("luigi/luigi/a", "luigi/luigi/b"):
        logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
        events = []
        for i in range(60):
            ms = int((T0 + dt.timedelta(minutes=i)).timestamp() * 1000)
            family = "Convert" if i % 2 else "Light"
            events.append({"timestamp": ms, "message": json.dumps(usage(family, 2000 if family == "Convert" else 100, 0.1))})
            if i % 4 == 0:
                events.append({"timestamp": ms, "message": "luigi-fargate: done: Convert_x (exit 0)"})
                events.append({"timestamp": ms, "message": json.dumps(usage("Convert", 9000, 3.0, ran=False))})
        early = int((T0 - dt.timedelta(days=3)).timestamp() * 1000)
        events.insert(0, {"timestamp": early, "message": json.dumps(usage("Convert", 60000, 8.0))})  # before --since
        logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=sorted(events, key=lambda e: e["timestamp"]))
    return moto_reset


@pytest.fixture
def proxy(log_group: str) -> Iterator[ThrottlingProxy]:
    server = ThrottlingProxy(log_group, throttle=1)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_reads_every_page_through_throttling(proxy: ThrottlingProxy, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    runs = runs_from_log_group(GROUP, REGION, T0 - dt.timedelta(days=1), T0 + dt.timedelta(days=1), page_size=50)
    assert len(runs) == 120
    assert {r.family for r in runs} == {"Convert", "Light"} and max(r.max_rss_mb for r in runs) == 2000
    assert proxy.throttled == 1
    assert proxy.filter_calls - proxy.throttled >= 150 // 50  # 150 events in the period, 50 a page


def test_cli_suggests_sizes_from_the_log_group(cli, log_group: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", log_group)
    result = cli("sizes", "suggest", "--log-group", GROUP, "--region", REGION, "--since", "2d", "--format", "json")
    assert result.returncode == 0, result.stderr
    picked = {r["family"]: (r["runs"], r["suggested_cpu"], r["suggested_memory"]) for r in json.loads(result.stdout)}
    assert picked == {"Convert": (60, 512, 3072), "Light": (60, 256, 512)}  # 2,500 MiB needs 0.5 vCPU


def test_a_missing_log_group_is_a_one_line_error(cli, moto_reset: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_reset)
    result = cli("sizes", "suggest", "--log-group", "/nope", "--region", REGION)
    assert result.returncode == 2 and "ResourceNotFoundException" in result.stderr and result.stderr.count("\n") == 1, result.stderr
