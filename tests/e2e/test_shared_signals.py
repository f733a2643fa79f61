"""Revocation that reaches a resource server: authgate_client's verifier, in a process of its
own, polls authgate's Shared Signals stream and refuses the tokens of sessions logged out on
a real server, each within a second (the hot-paths issue's target; `just bench` runs 1,000)."""

from __future__ import annotations

from pathlib import Path

import httpx
from benchmarks.signals import PASSWORD, refusal_latencies

from tests.e2e.clients import client_server

TOKEN = "orders-bearer-0123456789abcdefghijklmn"
LOGOUTS = 200


def test_a_logged_out_sessions_token_is_refused_by_a_resource_server_within_a_second(
    tmp_path: Path,
) -> None:
    with client_server(tmp_path, AUTH_SSF_RECEIVERS=f"orders:{TOKEN}") as server:
        signed_up = httpx.post(
            f"{server.url}/auth/register", json={"email": "ada@site.com", "password": PASSWORD}
        )
        assert signed_up.status_code == 201, signed_up.text
        found = refusal_latencies(server.url, TOKEN, "ada@site.com", LOGOUTS)

    assert found.never == 0
    assert found.wrong == []  # refused because the session ended, for no other reason
    assert len(found.latencies) == LOGOUTS
    assert found.p99 <= 1.0, f"p99 {found.p99:.3f} s, max {found.latencies[-1]:.3f} s"
