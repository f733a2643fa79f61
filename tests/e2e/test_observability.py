"""A real server's output and metrics: JSON lines on stdout, and /metrics summed over
granian workers through prometheus_client's multiprocess directory."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx

from tests.e2e.conftest import Server, running_server
from tests.http.scrape import parse

PASSWORD = "secret123"
GRANIAN_LINE = re.compile(r"\[(INFO|WARNING)\] ")


def wait_for_line(server: Server, predicate: str) -> None:
    deadline = time.monotonic() + 5
    while not any(predicate in line for line in server.stdout) and time.monotonic() < deadline:
        time.sleep(0.05)


def test_the_server_writes_one_json_line_per_request_and_per_audit_event(tmp_path: Path) -> None:
    with running_server(tmp_path, AUTH_TRUSTED_PROXIES="127.0.0.1/32") as server:
        headers = {"X-Request-ID": "e2e-1", "X-Forwarded-For": "203.0.113.9"}
        body = {"email": "e2e@site.com", "password": PASSWORD}
        response = httpx.post(f"{server.url}/auth/register", json=body, headers=headers)
        assert response.status_code == 201, response.text
        assert response.headers["x-request-id"] == "e2e-1"
        wait_for_line(server, '"status":201')
        # Every line of ours is JSON; granian's own start-up lines ("[INFO] Starting…") are not.
        ours = [line for line in server.stdout if not GRANIAN_LINE.match(line)]
        lines = [json.loads(line) for line in ours]

    requests = [line for line in lines if line["logger"] == "authgate.request"]
    assert {line["path"] for line in requests} == {"/health/live", "/auth/register"}
    (request,) = [line for line in requests if line["request_id"] == "e2e-1"]
    assert request["client_ip"] == "203.0.113.9"  # after the trusted-proxy rule
    assert (request["method"], request["path"], request["status"]) == (
        "POST",
        "/auth/register",
        201,
    )
    audits = [line for line in lines if line["logger"] == "authgate.audit"]
    assert [a["event"] for a in audits] == ["session_started", "user_registered"]
    assert {a["request_id"] for a in audits} == {"e2e-1"}
    output = "\n".join(server.stdout + server.stderr)
    assert PASSWORD not in output
    assert response.json()["access_token"] not in output


def test_metrics_add_up_over_two_granian_workers(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    environment = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    requests = 40
    with running_server(tmp_path, workers=2, environment=environment) as server:
        before = parse(httpx.get(f"{server.url}/metrics").text)
        for _ in range(requests):  # a new connection each: the workers share them out
            assert httpx.get(f"{server.url}/health/live").status_code == 200
        scrapes = [parse(httpx.get(f"{server.url}/metrics").text) for _ in range(6)]

    key = (
        "authgate_requests_total",
        frozenset(
            {
                "method": "GET",
                "path": "/health/live",
                "status_code": "200",
                "app_name": "authgate",
            }.items()
        ),
    )
    # Whichever worker answers the scrape, it reports the sum over both.
    assert {scrape[key] - before.get(key, 0.0) for scrape in scrapes} == {requests}
    writers = {path.stem.rsplit("_", 1)[-1] for path in metrics_dir.glob("counter_*.db")}
    assert len(writers) == 2  # both workers served (and counted) some of them
