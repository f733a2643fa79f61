"""Revocation that reaches a resource server: authgate_client's verifier, in a process of its
own, polls authgate's Shared Signals stream and refuses the tokens of sessions logged out on
a real server, each within a second (the hot-paths issue's target; `just bench` runs 1,000)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx

from tests.e2e.clients import client_server

TOKEN = "orders-bearer-0123456789abcdefghijklmn"
LOGOUTS = 200
PASSWORD = "a long enough password"

# The resource server: verifies each token it is given until it is refused, and says when.
RESOURCE_SERVER = textwrap.dedent(
    """
    import json, sys, time
    from authgate_client.resource import AccessTokenVerifier, InvalidToken

    issuer, token = sys.argv[1], sys.argv[2]
    verifier = AccessTokenVerifier(issuer, signals_token=token)
    assert verifier.wait_for_signals(10), "the stream never answered"
    print("ready", flush=True)
    pending, latencies, wrong = {}, [], []
    for line in sys.stdin:
        if line.strip() == "done":
            break
        sent = json.loads(line)
        pending[sent["token"]] = sent["logged_out_at"]
        for waiting, logged_out_at in list(pending.items()):
            try:
                verifier.verify(waiting)  # a good token of ours, until its logout arrives
            except InvalidToken as refused:
                if str(refused) != "the token's session has ended":
                    wrong.append(str(refused))
                latencies.append(time.time() - logged_out_at)
                del pending[waiting]
    deadline = time.monotonic() + 5
    while pending and time.monotonic() < deadline:
        for waiting, logged_out_at in list(pending.items()):
            try:
                verifier.verify(waiting)
            except InvalidToken as refused:
                if str(refused) != "the token's session has ended":
                    wrong.append(str(refused))
                latencies.append(time.time() - logged_out_at)
                del pending[waiting]
        time.sleep(0.005)
    report = {"latencies": latencies, "never": len(pending), "wrong": wrong}
    print(json.dumps(report), flush=True)
    """
)


def test_a_logged_out_sessions_token_is_refused_by_a_resource_server_within_a_second(
    tmp_path: Path,
) -> None:
    with client_server(tmp_path, AUTH_SSF_RECEIVERS=f"orders:{TOKEN}") as server:
        http = httpx.Client(base_url=server.url, headers={"X-Auth-Transport": "body"})
        assert http.post("/auth/register", json={"email": "ada@site.com", "password": PASSWORD})
        script = tmp_path / "resource_server.py"
        script.write_text(RESOURCE_SERVER)
        verifier = subprocess.Popen(
            [sys.executable, str(script), server.url, TOKEN],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert verifier.stdin is not None
        assert verifier.stdout is not None
        assert verifier.stdout.readline().strip() == "ready"
        for _ in range(LOGOUTS):
            signed_in = http.post(
                "/auth/login", json={"email": "ada@site.com", "password": PASSWORD}
            )
            body = signed_in.json()
            logged_out = http.post(
                "/auth/logout",
                json={"refresh_token": body["refresh_token"]},
                headers={"Authorization": f"Bearer {body['access_token']}"},
            )
            assert logged_out.status_code == 204, logged_out.text
            line = {"token": body["access_token"], "logged_out_at": time.time()}
            verifier.stdin.write(json.dumps(line) + "\n")
            verifier.stdin.flush()
        verifier.stdin.write("done\n")
        verifier.stdin.flush()
        report = json.loads(verifier.stdout.readline())
        verifier.wait(timeout=30)
        http.close()

    latencies = sorted(report["latencies"])
    assert report["never"] == 0
    assert report["wrong"] == []  # refused because the session ended, for no other reason
    assert len(latencies) == LOGOUTS
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    assert p99 <= 1.0, f"p99 {p99:.3f} s, max {latencies[-1]:.3f} s"
